//! What the closed string enums of the wire have in common (`PASSPORT`, `SUCCESS`, `RSA`, …).
//!
//! Each such enum is declared with the crate-private `wire_enum!` macro, which gives it the exact
//! wire strings, `as_str`/`parse`, `Display`, `FromStr` and serde as the string, so that no enum
//! can drift from its spelling on the wire.

/// A closed enum that travels as one of a fixed set of exact, case-sensitive strings.
pub trait WireEnum: Sized + Copy + 'static {
    /// Every variant, in the order the spec lists them.
    const ALL: &'static [Self];
    /// The wire strings joined with `", "`, for error messages ("must be one of …").
    const EXPECTED: &'static str;

    /// The exact wire string of this variant.
    fn wire_str(self) -> &'static str;

    /// The variant spelled exactly `text` on the wire, if any.
    fn from_wire(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.wire_str() == text)
    }
}

/// A string that is not one of an enum's wire spellings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be one of {expected}")]
pub struct UnknownVariant {
    /// The accepted spellings, joined with `", "`.
    pub expected: &'static str,
}

/// Declares a wire enum: `wire_enum! { /// doc  pub enum Name { /// doc  Variant => "WIRE", } }`.
macro_rules! wire_enum {
    (@join $first:literal $(, $rest:literal)*) => { concat!($first $(, ", ", $rest)*) };
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every variant, in the order the spec lists them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The exact wire string of this variant.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)+
                }
            }

            /// The variant spelled exactly `text` (case-sensitive), if any.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($wire => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl $crate::wire_enum::WireEnum for $name {
            const ALL: &'static [Self] = $name::ALL;
            const EXPECTED: &'static str = wire_enum!(@join $($wire),+);

            fn wire_str(self) -> &'static str {
                self.as_str()
            }

            fn from_wire(text: &str) -> Option<Self> {
                $name::parse(text)
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::core::str::FromStr for $name {
            type Err = $crate::wire_enum::UnknownVariant;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                $name::parse(text).ok_or($crate::wire_enum::UnknownVariant {
                    expected: <$name as $crate::wire_enum::WireEnum>::EXPECTED,
                })
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <::std::string::String as ::serde::Deserialize>::deserialize(deserializer)?;
                $name::parse(&text).ok_or_else(|| {
                    <D::Error as ::serde::de::Error>::custom(format_args!(
                        "unknown {} {:?}: must be one of {}",
                        stringify!($name),
                        text,
                        <$name as $crate::wire_enum::WireEnum>::EXPECTED,
                    ))
                })
            }
        }
    };
}
