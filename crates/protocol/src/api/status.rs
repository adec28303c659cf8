//! The status enums that responses and the notification carry.

wire_enum! {
    /// The state of a recharge or withdraw order (the seed's enum, §4.5). A withdrawal moves
    /// `INIT` → `PROCESSING` → `SUCCESS` or `FAIL` and never otherwise; a recharge is `SUCCESS`
    /// as soon as it is accepted.
    pub enum OrderStatus {
        /// Accepted, funds frozen.
        Init => "INIT",
        /// Handed to the payout channel.
        Processing => "PROCESSING",
        /// Done: credited (recharge) or debited and paid out (withdrawal).
        Success => "SUCCESS",
        /// Failed: the frozen funds were released.
        Fail => "FAIL",
    }
}

impl OrderStatus {
    /// Whether the order can no longer change (`SUCCESS` or `FAIL`): the states that are notified.
    pub const fn is_final(self) -> bool {
        matches!(self, OrderStatus::Success | OrderStatus::Fail)
    }
}

wire_enum! {
    /// The state of a wallet user and account (§4.1).
    pub enum UserStatus {
        /// In use.
        Normal => "NORMAL",
        /// Frozen: no recharge or withdrawal (`3002`).
        Frozen => "FROZEN",
        /// Closed for good (`3002`).
        Closed => "CLOSED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire_enum::WireEnum;

    #[test]
    fn wire_strings_are_exact() {
        assert_eq!(
            OrderStatus::parse("PROCESSING"),
            Some(OrderStatus::Processing)
        );
        assert_eq!(OrderStatus::parse("processing"), None);
        assert_eq!(OrderStatus::EXPECTED, "INIT, PROCESSING, SUCCESS, FAIL");
        assert_eq!(
            serde_json::to_string(&UserStatus::Frozen).unwrap(),
            "\"FROZEN\""
        );
        assert_eq!(
            serde_json::from_str::<UserStatus>("\"CLOSED\"").unwrap(),
            UserStatus::Closed
        );
        assert!(serde_json::from_str::<UserStatus>("\"closed\"").is_err());
        assert!(OrderStatus::Fail.is_final() && !OrderStatus::Init.is_final());
        for status in OrderStatus::ALL {
            assert_eq!(status.as_str().parse::<OrderStatus>(), Ok(*status));
        }
    }
}
