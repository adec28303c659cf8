//! A fake institution endpoint that records every notification it receives and
//! answers whatever the test scripted: success, an HTTP error, garbage, or a
//! slow answer.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

/// How the receiver answers one notification.
#[derive(Debug, Clone)]
pub enum Answer {
    /// HTTP 200 with `{"ret_code":"0000"}`.
    Ack,
    /// This HTTP status.
    Status(u16),
    /// HTTP 200 with a body that is not an acknowledgement.
    Garbage,
    /// HTTP 200 `{"ret_code":"9999"}`.
    NotAccepted,
    /// Waits, then acknowledges.
    Slow(Duration),
}

/// One notification as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

#[derive(Default)]
struct Inner {
    script: VecDeque<Answer>,
    received: Vec<Received>,
}

#[derive(Clone)]
pub struct Receiver {
    inner: Arc<Mutex<Inner>>,
    pub url: String,
}

async fn handle(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> Response {
    let answer = {
        let mut inner = r.inner.lock().unwrap();
        inner.received.push(Received {
            headers,
            body: body.to_vec(),
        });
        inner.script.pop_front().unwrap_or(Answer::Ack)
    };
    let ack = || (StatusCode::OK, r#"{"ret_code":"0000","ret_msg":"ok"}"#).into_response();
    match answer {
        Answer::Ack => ack(),
        Answer::Status(s) => (StatusCode::from_u16(s).unwrap(), "oops").into_response(),
        Answer::Garbage => (StatusCode::OK, "<html>not json</html>").into_response(),
        Answer::NotAccepted => {
            (StatusCode::OK, r#"{"ret_code":"9999","ret_msg":"busy"}"#).into_response()
        }
        Answer::Slow(d) => {
            tokio::time::sleep(d).await;
            ack()
        }
    }
}

impl Receiver {
    /// A receiver on an ephemeral port.
    pub async fn start() -> Receiver {
        Self::start_on("127.0.0.1:0").await
    }

    /// A receiver on a given address (to come back on the same port).
    pub async fn start_on(addr: &str) -> Receiver {
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let url = format!("http://{}/notify", listener.local_addr().unwrap());
        let r = Receiver {
            inner: Arc::default(),
            url,
        };
        let app = axum::Router::new()
            .route("/notify", post(handle))
            .with_state(r.clone());
        // Serves until the test's runtime ends.
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        r
    }

    /// Answers the next notifications in this order, then acknowledges.
    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.inner.lock().unwrap().script.extend(answers);
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }
}
