//! How many response signatures this machine can make: the crypto limit of the
//! wallet, measured through the same code the server signs with.
//!
//! `cargo run --release -p freewalker-protocol --example sign_rate -- [THREADS] [SECONDS]`

use std::time::{Duration, Instant};

use freewalker_protocol::signature::{SigningKey, generate_rsa_2048};

fn main() {
    let mut args = std::env::args().skip(1);
    let threads: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2);
    let seconds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let (private_pem, _) = generate_rsa_2048().expect("key");
    let key = SigningKey::from_pkcs8_pem(&private_pem).expect("key");
    let body =
        br#"{"ret_code":"0000","ret_msg":"accepted","data":{"order_no":"R20261126000000000001"}}"#;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let signed: u64 = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut n = 0u64;
                    while Instant::now() < deadline {
                        key.sign(body).expect("sign");
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or(0)).sum()
    });
    let verify_key = key.verifying_key().expect("public key");
    let signature = key.sign(body).expect("sign");
    let started = Instant::now();
    let mut verified = 0u64;
    while started.elapsed() < Duration::from_secs(1) {
        verify_key.verify(body, &signature).expect("verify");
        verified += 1;
    }
    println!(
        "RSA-2048 (aws-lc-rs via freewalker-protocol): {:.0} signatures/s on {threads} thread(s); {:.0} verifications/s on 1",
        signed as f64 / seconds as f64,
        verified as f64 / started.elapsed().as_secs_f64()
    );
}
