//! The client against a scripted HTTP server on 127.0.0.1: what goes on the wire (headers,
//! multipart, bodies), retries, redaction and downloads.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use super::*;

const KEY: &str = "sk-test-client-0123456789";

/// One request as the server read it.
#[derive(Debug, Clone)]
struct Seen {
    line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A server answering each connection with the next scripted response (the last one
/// again once they run out), one request per connection.
struct Server {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    fn start(responses: Vec<String>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        std::thread::spawn(move || {
            for (index, stream) in listener.incoming().enumerate() {
                let mut stream = stream.unwrap();
                let request = read_request(&mut stream);
                record.lock().unwrap().push(request);
                let response = &responses[index.min(responses.len() - 1)];
                let _ = stream.write_all(response.as_bytes());
            }
        });
        Server { url, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn read_request(stream: &mut std::net::TcpStream) -> Seen {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).unwrap();
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').unwrap();
        headers.push((name.to_string(), value.trim().to_string()));
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    Seen {
        line: line.trim_end().to_string(),
        headers,
        body,
    }
}

fn respond(status: &str, extra_headers: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{extra_headers}\r\n{body}",
        body.len()
    )
}

fn ok(body: &Value) -> String {
    respond("200 OK", "", &body.to_string())
}

fn client(server: &Server, extra: &[(&str, &str)]) -> HttpBatchApi {
    let mut vars: Vec<(String, OsString)> = vec![
        ("OPENAI_API_KEY".into(), KEY.into()),
        ("OPENAI_BASE_URL".into(), server.url.clone().into()),
        ("SAFESFT_NO_RETRY_DELAY".into(), "1".into()),
    ];
    for (k, v) in extra {
        vars.retain(|(name, _)| name != k);
        vars.push(((*k).to_string(), (*v).into()));
    }
    let settings =
        ApiSettings::from_vars(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
            .unwrap();
    HttpBatchApi::new(settings).unwrap()
}

fn batch(status: &str) -> Value {
    json!({
        "id": "batch_1", "object": "batch", "endpoint": "/v1/chat/completions",
        "errors": null, "input_file_id": "file-1", "completion_window": "24h",
        "status": status, "output_file_id": null, "error_file_id": null,
        "created_at": 1_700_000_000u64, "in_progress_at": null, "expires_at": 1_700_086_400u64,
        "finalizing_at": null, "completed_at": null, "failed_at": null, "expired_at": null,
        "cancelling_at": null, "cancelled_at": null,
        "request_counts": {"total": 2, "completed": 0, "failed": 0},
        "metadata": {"safesft_run": "r"}
    })
}

fn file() -> Value {
    json!({
        "id": "file-1", "object": "file", "bytes": 12, "created_at": 1_700_000_000u64,
        "expires_at": null, "filename": "s.jsonl", "purpose": "batch",
        "status": "processed", "status_details": null
    })
}

#[tokio::test]
async fn every_call_carries_the_headers_openai_clients_send() {
    let server = Server::start(vec![ok(&batch("validating"))]);
    let api = client(
        &server,
        &[("OPENAI_ORG_ID", "org-1"), ("OPENAI_PROJECT_ID", "proj_1")],
    );
    let info = api.retrieve_batch("batch_1").await.unwrap();
    assert_eq!(info.status, crate::api::BatchStatus::Validating);
    let seen = &server.seen()[0];
    assert_eq!(seen.line, "GET /v1/batches/batch_1 HTTP/1.1");
    assert_eq!(
        seen.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(seen.header("openai-organization"), Some("org-1"));
    assert_eq!(seen.header("openai-project"), Some("proj_1"));

    let server = Server::start(vec![ok(&batch("validating"))]);
    client(&server, &[])
        .retrieve_batch("batch_1")
        .await
        .unwrap();
    let seen = &server.seen()[0];
    assert!(seen.header("openai-organization").is_none());
    assert!(seen.header("openai-project").is_none());
}

#[tokio::test]
async fn upload_is_multipart_with_purpose_and_a_typed_file_part() {
    let server = Server::start(vec![ok(&file())]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shard.jsonl");
    std::fs::write(&path, "{\"custom_id\":\"a\"}\n").unwrap();
    let info = client(&server, &[])
        .upload_file(&path, "safesft-r-shard-000.jsonl")
        .await
        .unwrap();
    assert_eq!(info.id, "file-1");
    let seen = &server.seen()[0];
    assert_eq!(seen.line, "POST /v1/files HTTP/1.1");
    assert!(seen
        .header("content-type")
        .unwrap()
        .starts_with("multipart/form-data; boundary="));
    let body = String::from_utf8_lossy(&seen.body);
    assert!(
        body.contains("Content-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n"),
        "{body}"
    );
    assert!(
        body.contains("Content-Disposition: form-data; name=\"file\"; filename=\"safesft-r-shard-000.jsonl\"\r\nContent-Type: application/jsonl\r\n\r\n{\"custom_id\":\"a\"}\n\r\n"),
        "{body}"
    );
}

#[tokio::test]
async fn create_sends_exactly_its_four_fields_and_cancel_no_body() {
    let server = Server::start(vec![ok(&batch("validating")), ok(&batch("cancelling"))]);
    let api = client(&server, &[]);
    let metadata = BTreeMap::from([("safesft_run".to_string(), "r".to_string())]);
    api.create_batch("file-1", &metadata).await.unwrap();
    let cancelled = api.cancel_batch("batch_1").await.unwrap();
    assert_eq!(cancelled.status, crate::api::BatchStatus::Cancelling);
    let seen = server.seen();
    assert_eq!(seen[0].line, "POST /v1/batches HTTP/1.1");
    assert_eq!(seen[0].header("content-type"), Some("application/json"));
    let body: Value = serde_json::from_slice(&seen[0].body).unwrap();
    assert_eq!(
        body,
        json!({"input_file_id": "file-1", "endpoint": "/v1/chat/completions", "completion_window": "24h", "metadata": {"safesft_run": "r"}})
    );
    assert_eq!(seen[1].line, "POST /v1/batches/batch_1/cancel HTTP/1.1");
    assert!(seen[1].body.is_empty());
    assert!(seen[1].header("content-type").is_none());
}

#[tokio::test]
async fn lists_send_their_query_and_follow_pages() {
    let page = |ids: &[&str], more: bool| {
        let data: Vec<Value> = ids
            .iter()
            .map(|id| {
                let mut f = file();
                f["id"] = json!(id);
                f
            })
            .collect();
        ok(
            &json!({"object": "list", "data": data, "first_id": ids.first(), "last_id": ids.last(), "has_more": more}),
        )
    };
    let server = Server::start(vec![page(&["file-a", "file-b"], true), page(&[], false)]);
    let files = client(&server, &[]).list_batch_files().await.unwrap();
    assert_eq!(files.len(), 2);
    let seen = server.seen();
    assert_eq!(
        seen[0].line,
        "GET /v1/files?purpose=batch&limit=10000 HTTP/1.1"
    );
    assert_eq!(
        seen[1].line,
        "GET /v1/files?purpose=batch&limit=10000&after=file-b HTTP/1.1"
    );

    let server = Server::start(vec![ok(
        &json!({"object": "list", "data": [batch("in_progress")], "first_id": "batch_1", "last_id": "batch_1", "has_more": true}),
    )]);
    let page = client(&server, &[])
        .list_batches(Some("batch_0"), 100)
        .await
        .unwrap();
    assert!(page.has_more);
    assert_eq!(
        server.seen()[0].line,
        "GET /v1/batches?limit=100&after=batch_0 HTTP/1.1"
    );
}

#[tokio::test]
async fn rate_limits_are_waited_out_and_creates_retried_only_then() {
    let limited = respond(
        "429 Too Many Requests",
        "retry-after-ms: 20\r\n",
        r#"{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#,
    );
    let server = Server::start(vec![limited, ok(&batch("validating"))]);
    let api_with_delays = client(&server, &[("SAFESFT_NO_RETRY_DELAY", "0")]);
    let started = std::time::Instant::now();
    api_with_delays
        .create_batch("file-1", &BTreeMap::new())
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(20));
    assert_eq!(server.seen().len(), 2);

    let failed = respond(
        "500 Internal Server Error",
        "",
        r#"{"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}"#,
    );
    let server = Server::start(vec![failed, ok(&batch("validating"))]);
    let error = client(&server, &[])
        .create_batch("file-1", &BTreeMap::new())
        .await
        .unwrap_err();
    assert!(error.maybe_applied(), "{error}");
    assert_eq!(server.seen().len(), 1, "an ambiguous create is not resent");

    let server = Server::start(vec![
        respond("503 Service Unavailable", "", "{}"),
        ok(&batch("in_progress")),
    ]);
    client(&server, &[])
        .retrieve_batch("batch_1")
        .await
        .unwrap();
    assert_eq!(server.seen().len(), 2, "a read is retried after a 5xx");

    let server = Server::start(vec![respond(
        "404 Not Found",
        "",
        r#"{"error":{"message":"No batch found with id 'batch_9'.","type":"invalid_request_error","param":null,"code":null}}"#,
    )]);
    let error = client(&server, &[])
        .retrieve_batch("batch_9")
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "the API answered 404 to retrieving batch `batch_9`: No batch found with id 'batch_9'."
    );
    assert_eq!(server.seen().len(), 1, "a 4xx is final");
}

#[tokio::test]
async fn a_refused_connection_is_retried_even_for_a_create() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = Server {
        url: format!("http://127.0.0.1:{port}/v1"),
        seen: Arc::default(),
    };
    let error = client(&server, &[])
        .create_batch("file-1", &BTreeMap::new())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            ApiError::Transport {
                ambiguous: false,
                ..
            }
        ),
        "{error}"
    );
    assert!(!error.maybe_applied());
}

#[tokio::test]
async fn the_key_echoed_back_by_a_proxy_never_reaches_the_error() {
    let echo =
        format!("<html>400 Bad Request: Authorization: Bearer {KEY} is not allowed here</html>");
    let server = Server::start(vec![respond("400 Bad Request", "", &echo)]);
    let error = client(&server, &[])
        .retrieve_batch("batch_1")
        .await
        .unwrap_err();
    let shown = format!("{error} {error:?} {error:#}");
    assert!(!shown.contains(KEY), "{shown}");
    assert!(shown.contains("Bearer [redacted]"), "{shown}");
    assert!(!format!("{:?}", client(&server, &[])).contains(KEY));
}

#[tokio::test]
async fn downloads_land_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let destination = dir.path().join("outputs/shard-000.jsonl");
    let whole = "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: 6\r\nconnection: close\r\n\r\nline\n\n".to_string();
    let server = Server::start(vec![whole]);
    let bytes = client(&server, &[])
        .download_file("file-out", &destination)
        .await
        .unwrap();
    assert_eq!(bytes, 6);
    assert_eq!(std::fs::read_to_string(&destination).unwrap(), "line\n\n");
    assert_eq!(
        server.seen()[0].line,
        "GET /v1/files/file-out/content HTTP/1.1"
    );

    let short = "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: 10\r\nconnection: close\r\n\r\nhalf".to_string();
    let server = Server::start(vec![short]);
    let destination = dir.path().join("outputs/shard-001.jsonl");
    let error = client(&server, &[])
        .download_file("file-out", &destination)
        .await
        .unwrap_err();
    assert!(error.transient(), "{error}");
    assert_eq!(server.seen().len(), 8, "retried up to 8 attempts");
    assert!(!destination.exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("outputs"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers,
        vec![OsString::from("shard-000.jsonl")],
        "no temp file left behind"
    );
}
