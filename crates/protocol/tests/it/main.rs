//! The protocol crate's integration tests, in one binary (see STYLE.md): the
//! OpenSSL vectors reproduced byte for byte, every request's validation, the
//! response and notification shapes, and property tests.

mod amount_props;
mod api_props;
mod api_requests;
mod api_responses;
mod envelope_vectors;
mod signature_vectors;
