//! The server must not only agree with itself: an institution written
//! independently (Python `cryptography`, the way a bank's integrator would) is
//! accepted, and OpenSSL's own signature of a request verifies.

use std::process::Command;

use freewalker_protocol::api::paths;

use crate::support::{Backend, INST, TestApp, repo_tests_dir};

async fn an_independent_python_client_is_accepted_and_verifies_our_answers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let wallet_public = app.dir.path().join("wallet_public.pem");
    let script = repo_tests_dir().join("interop/institution_client.py");
    let key = repo_tests_dir().join("vectors/inst_rsa_private.pem");
    let base_url = app.base_url.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(script)
            .arg(base_url)
            .arg(INST)
            .arg(key)
            .arg(wallet_public)
            .output()
    })
    .await
    .unwrap()
    .expect("python3 runs (CI installs the cryptography package)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "python client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("\"user_sync\"") && stdout.contains("\"account_query\""));
}

async fn a_request_signed_by_the_openssl_command_line_is_accepted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let body = br#"{"institution_id":"INST0001","account_no":"8000000000000011"}"#;
    let md5 = freewalker_protocol::signature::md5_hex(body);
    let key = repo_tests_dir().join("vectors/inst_rsa_private.pem");
    let dir = app.dir.path().to_owned();
    let signature = tokio::task::spawn_blocking(move || {
        let input = dir.join("md5.txt");
        std::fs::write(&input, md5).unwrap();
        let out = Command::new("openssl")
            .args(["dgst", "-sha256", "-sign"])
            .arg(key)
            .arg(&input)
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(out.stdout)
    })
    .await
    .unwrap();
    let mut raw = app.signed_raw(paths::ACCOUNT_QUERY, body);
    raw.headers.retain(|(k, _)| k != "signature-data");
    raw.headers.push(("Signature-Data".into(), signature));
    let reply = app.client.send_raw(raw).await.unwrap();
    assert!(reply.signature_ok);
    assert_eq!(
        reply.envelope.unwrap().ret_code,
        "3001",
        "authenticated, then the account is missing"
    );
}

crate::on_both_backends!(
    an_independent_python_client_is_accepted_and_verifies_our_answers,
    a_request_signed_by_the_openssl_command_line_is_accepted
);
