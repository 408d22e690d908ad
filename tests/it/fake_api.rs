//! A stateful fake of the OpenAI Files and Batch API on 127.0.0.1, shaped like the real
//! API (the official OpenAPI spec, relaxed where the real API answers differently, and
//! the openai-python types), with faults to inject: rate limits, server errors, dropped
//! and hung connections, batches that fail validation, expire half done or are cancelled.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

/// Which call a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Route {
    Upload,
    ListFiles,
    Create,
    Retrieve,
    ListBatches,
    Cancel,
    Content,
    DeleteFile,
}

/// What goes wrong on the next call to a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// An HTTP error status with an OpenAI error body; nothing is applied.
    Status(u16),
    /// 429 with `Retry-After` seconds; nothing is applied.
    RateLimited { retry_after: u64 },
    /// The call takes effect, then the connection breaks before the answer is whole.
    DropAfterApply,
    /// The connection breaks before anything happens.
    DropBeforeApply,
    /// The call takes effect, then no answer ever comes.
    HangAfterApply,
    /// No answer ever comes, and nothing happens.
    HangBeforeApply,
    /// A file download sends half its bytes, then breaks.
    HalfBodyThenDrop,
    /// A file download sends half its bytes, then hangs.
    HalfBodyThenHang,
    /// 400 whose message echoes the `Authorization` header cut short, as some proxies
    /// and gateways do; nothing is applied.
    EchoAuthorization,
}

/// How a batch behaves as it is polled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scenario {
    /// validating → in_progress → finalizing → completed; every `error_every`-th request
    /// (if set) fails inside the batch and goes to the error file.
    Complete { error_every: Option<usize> },
    /// validating → failed, with `errors.data` carrying `code`.
    FailValidation { code: &'static str },
    /// in_progress → expired with half the requests done; the rest are `batch_expired`.
    ExpireHalf,
    /// completed with `output_file_id: null`: every request failed.
    AllFail,
}

mod network;

use network::{remember_authorization, OutageListener};

struct FakeFile {
    id: String,
    filename: String,
    purpose: String,
    bytes: Vec<u8>,
    created_at: u64,
}

struct FakeBatch {
    object: Value,
    requests: Vec<Value>,
    scenario: Scenario,
    polls: u32,
}

/// The fake's own knowledge, for verify requests (issue 9): which paraphrases it
/// altered (a change the rule checks do not see), and how often its verifier misses one.
#[derive(Default, Clone)]
pub struct Verifier {
    /// Every `n`-th paraphrase answered well gets altered (none when `None`).
    alter_every: Option<usize>,
    /// Every `n`-th verify request that reads an altered paraphrase says `same` anyway.
    miss_every: Option<usize>,
    paraphrases_seen: usize,
    /// Altered paraphrase text → (note id, original words, altered words).
    altered: BTreeMap<String, (String, String, String)>,
    /// Verify requests that read an altered paraphrase, so far.
    altered_read: usize,
    /// Note ids whose paraphrase was altered.
    pub altered_notes: Vec<String>,
    /// Note ids whose altered paraphrase the verifier flagged `changed`.
    pub flagged: Vec<String>,
    /// Note ids whose altered paraphrase the verifier missed (`same`).
    pub missed: Vec<String>,
    /// Verify requests answered in all.
    pub verify_answers: usize,
    /// Every `n`-th paraphrase answered well gets [`DOUBT`] added: a sentence only the
    /// concept-level rule checks object to (none when `None`).
    doubt_every: Option<usize>,
    /// Every `n`-th of those the fake's verifier flags `changed`; it clears the others.
    doubt_flag_every: Option<usize>,
    doubts_seen: usize,
    /// Note ids whose paraphrase got [`DOUBT`], and those of them the verifier flags.
    pub doubted_notes: Vec<String>,
    pub doubted_flagged: Vec<String>,
}

/// What a doubted paraphrase gets added: a finding the original never states, with no
/// number, unit or drug in it, so only concept-level checks can object.
pub const DOUBT: &str = " Mild hemoptysis was also reported.";

/// A change of meaning the rule checks do not see (where the patient was seen, a
/// direction, a relationship: no lexicon concept): the first of these words in the
/// paraphrase is replaced. `None` when it has none.
fn alter(note: &str) -> Option<(String, String, String)> {
    const SWAPS: [(&str, &str); 6] = [
        (" emergency department", " urgent care clinic"),
        (" physician", " nurse practitioner"),
        (" doctor", " nurse practitioner"),
        (" decreased", " increased"),
        (" friend", " coworker"),
        (" school", " bank"),
    ];
    SWAPS
        .iter()
        .find(|(from, _)| note.contains(from))
        .map(|(from, to)| {
            (
                note.replacen(from, to, 1),
                from.trim().to_string(),
                to.trim().to_string(),
            )
        })
}

/// The verify answer for a request that reads a paraphrase (the text after
/// `PARAPHRASE:` in its user message): `changed` with the difference when the fake
/// altered that paraphrase (but `same` on a planned miss), else `same`.
fn verify_answer(request: &Value, verifier: &mut Verifier) -> String {
    let user = request["body"]["messages"][1]["content"]
        .as_str()
        .unwrap_or_default();
    let paraphrase = user
        .split_once("PARAPHRASE:\n")
        .map_or("", |(_, rest)| rest)
        .rsplit_once("\n\nList every fact")
        .map_or("", |(text, _)| text);
    verifier.verify_answers += 1;
    let Some((note_id, from, to)) = verifier.altered.get(paraphrase).cloned() else {
        return json!({"differences": [], "verdict": "same"}).to_string();
    };
    verifier.altered_read += 1;
    if verifier
        .miss_every
        .is_some_and(|n| verifier.altered_read.is_multiple_of(n))
    {
        verifier.missed.push(note_id);
        return json!({"differences": [], "verdict": "same"}).to_string();
    }
    verifier.flagged.push(note_id);
    json!({
        "differences": [{"kind": "course", "original": from, "paraphrase": to}],
        "verdict": "changed"
    })
    .to_string()
}

#[derive(Default)]
struct FakeState {
    files: Vec<FakeFile>,
    batches: Vec<FakeBatch>,
    faults: BTreeMap<Route, VecDeque<Fault>>,
    scenarios: BTreeMap<String, Scenario>,
    calls: Vec<(Route, String)>,
    next_id: u64,
    /// First attempts get defective answers now and then (see `completion`).
    defects: bool,
    /// What the fake knows of the paraphrases it altered, to answer verify requests.
    verifier: Verifier,
    batches_created: usize,
    files_uploaded: usize,
    /// The first answers come back malformed (see `malformed_answers`).
    malformed: bool,
    /// Until then, every connection is refused and every call breaks off (an outage).
    outage_until: Option<Instant>,
    /// Connections refused and calls broken off by outages.
    outage_hits: usize,
    /// The `Authorization` header of the last call.
    authorization: String,
}

impl FakeState {
    fn id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}{:012x}", self.next_id * 7919 + 0xabc)
    }

    fn take_fault(&mut self, route: Route, detail: String) -> Option<Fault> {
        self.calls.push((route, detail));
        if self.in_outage() {
            // A connection opened before the outage: it breaks, nothing is applied.
            self.outage_hits += 1;
            return Some(Fault::DropBeforeApply);
        }
        self.faults.get_mut(&route).and_then(VecDeque::pop_front)
    }

    fn in_outage(&self) -> bool {
        self.outage_until
            .is_some_and(|until| Instant::now() < until)
    }
}

type Shared = Arc<Mutex<FakeState>>;

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The running fake. Dropped with the test; its thread ends with the process.
pub struct FakeApi {
    /// The API base, `http://127.0.0.1:PORT/v1`.
    pub url: String,
    state: Shared,
}

impl FakeApi {
    pub fn start() -> FakeApi {
        let state: Shared = Arc::default();
        let app = Router::new()
            .route("/v1/files", post(upload).get(list_files))
            .route("/v1/files/{id}/content", get(content))
            .route("/v1/files/{id}", axum::routing::delete(delete_file))
            .route("/v1/batches", post(create).get(list_batches))
            .route("/v1/batches/{id}", get(retrieve))
            .route("/v1/batches/{id}/cancel", post(cancel))
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                remember_authorization,
            ))
            .with_state(state.clone());
        let (sender, receiver) = std::sync::mpsc::channel();
        let outage_state = state.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                sender.send(listener.local_addr().unwrap()).unwrap();
                let listener = OutageListener {
                    inner: listener,
                    state: outage_state,
                };
                axum::serve(listener, app).await.unwrap();
            });
        });
        let address = receiver.recv().unwrap();
        FakeApi {
            url: format!("http://{address}/v1"),
            state,
        }
    }

    /// The next call to `route` meets `fault` (faults queue up in order).
    pub fn fault(&self, route: Route, fault: Fault) {
        let mut state = self.state.lock().unwrap();
        state.faults.entry(route).or_default().push_back(fault);
    }

    /// From now for `length`: new connections are refused (accepted and dropped at
    /// once) and calls on connections already open break off, so every call fails as
    /// in a network outage; nothing is applied.
    pub fn outage(&self, length: Duration) {
        self.state.lock().unwrap().outage_until = Some(Instant::now() + length);
    }

    /// Connections refused and calls broken off by outages so far.
    pub fn outage_hits(&self) -> usize {
        self.state.lock().unwrap().outage_hits
    }

    /// Batches whose `safesft_shard` metadata is `shard` ("000", …) behave so.
    pub fn scenario(&self, shard: &str, scenario: Scenario) {
        self.state
            .lock()
            .unwrap()
            .scenarios
            .insert(shard.into(), scenario);
    }

    /// From now on, first attempts get truncated, refused, preambled and broken answers
    /// now and then; retries (attempt 2 on) are answered well.
    pub fn defective_answers(&self) {
        self.state.lock().unwrap().defects = true;
    }

    /// From now on, every `alter_every`-th paraphrase answered well carries a change of
    /// meaning the rule checks do not see, which the fake's verifier flags `changed`,
    /// except every `miss_every`-th time it reads one (a verifier miss).
    pub fn altered_paraphrases(&self, alter_every: usize, miss_every: Option<usize>) {
        let mut state = self.state.lock().unwrap();
        state.verifier.alter_every = Some(alter_every);
        state.verifier.miss_every = miss_every;
    }

    /// From now on, every `doubt_every`-th paraphrase answered well gets [`DOUBT`]
    /// added (only concept-level checks object to it); the fake's verifier flags every
    /// `flag_every`-th of those `changed` and answers `same` on the others.
    pub fn doubtful_paraphrases(&self, doubt_every: usize, flag_every: Option<usize>) {
        let mut state = self.state.lock().unwrap();
        state.verifier.doubt_every = Some(doubt_every);
        state.verifier.doubt_flag_every = flag_every;
    }

    /// What the fake's verifier has done so far.
    pub fn verifier(&self) -> Verifier {
        self.state.lock().unwrap().verifier.clone()
    }

    /// From now on, the first three answers of a batch come back malformed: a body that
    /// is a string, `usage.prompt_tokens` of `"lots"`, and of -500.
    pub fn malformed_answers(&self) {
        self.state.lock().unwrap().malformed = true;
    }

    /// Adds a `purpose=batch` file as if uploaded earlier (an upload whose answer was
    /// lost and which a lookup at the time did not see).
    pub fn plant_upload(&self, filename: &str, bytes: Vec<u8>) {
        let mut state = self.state.lock().unwrap();
        let id = state.id("file-");
        state.files.push(FakeFile {
            id,
            filename: filename.into(),
            purpose: "batch".into(),
            bytes,
            created_at: now(),
        });
    }

    /// Names of the files with `purpose=batch` (one per upload still there).
    pub fn batch_file_names(&self) -> Vec<String> {
        self.state
            .lock()
            .unwrap()
            .files
            .iter()
            .filter(|f| f.purpose == "batch")
            .map(|f| f.filename.clone())
            .collect()
    }

    pub fn batches_created(&self) -> usize {
        self.state.lock().unwrap().batches_created
    }

    pub fn files_uploaded(&self) -> usize {
        self.state.lock().unwrap().files_uploaded
    }

    pub fn calls(&self, route: Route) -> usize {
        self.state
            .lock()
            .unwrap()
            .calls
            .iter()
            .filter(|(r, _)| *r == route)
            .count()
    }

    /// Every batch object, oldest first.
    pub fn batches(&self) -> Vec<Value> {
        self.state
            .lock()
            .unwrap()
            .batches
            .iter()
            .map(|b| b.object.clone())
            .collect()
    }

    /// Waits until `done` holds (or panics after 30 s).
    pub fn wait_until(&self, what: &str, done: impl Fn(&FakeApi) -> bool) {
        let started = Instant::now();
        while !done(self) {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "timed out waiting for {what}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn error(status: u16, message: &str, kind: &str, code: Option<&str>) -> Response {
    let status = StatusCode::from_u16(status).unwrap();
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": code}});
    (status, Json(body)).into_response()
}

/// Answers a fault that stops the call before it takes effect; `None` to go on.
async fn before(fault: Option<Fault>, state: &Shared) -> Option<Response> {
    match fault? {
        Fault::EchoAuthorization => {
            let header = state.lock().unwrap().authorization.clone();
            // Cut short, as a gateway's log line would: no longer the whole key.
            let cut: String = header
                .chars()
                .take(header.len().saturating_sub(6))
                .collect();
            Some(error(
                400,
                &format!("Invalid header: Authorization: {cut}…"),
                "invalid_request_error",
                None,
            ))
        }
        Fault::Status(status) => Some(error(
            status,
            "The server had an error while processing your request.",
            "server_error",
            None,
        )),
        Fault::RateLimited { retry_after } => {
            let mut response = error(
                429,
                "Rate limit reached for requests",
                "requests",
                Some("rate_limit_exceeded"),
            );
            response
                .headers_mut()
                .insert("retry-after", retry_after.to_string().parse().unwrap());
            Some(response)
        }
        Fault::DropBeforeApply => Some(broken_body()),
        Fault::HangBeforeApply => {
            std::future::pending::<()>().await;
            None
        }
        _ => None,
    }
}

/// Answers a fault that strikes after the call took effect; `None` to answer normally.
async fn after(fault: Option<Fault>) -> Option<Response> {
    match fault? {
        Fault::DropAfterApply => Some(broken_body()),
        Fault::HangAfterApply => {
            std::future::pending::<()>().await;
            None
        }
        _ => None,
    }
}

/// A 200 whose body breaks off: the client sees a dropped connection.
fn broken_body() -> Response {
    let stream = futures_stream(vec![Err(std::io::Error::other("connection reset"))], false);
    Response::builder()
        .status(200)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(stream))
        .unwrap()
}

/// A body of `chunks`, optionally hanging forever after them.
fn futures_stream(chunks: Vec<Result<Vec<u8>, std::io::Error>>, hang: bool) -> chunks::Chunks {
    chunks::from_chunks(chunks, hang)
}

mod chunks {
    use std::collections::VecDeque;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    pub struct Chunks {
        chunks: VecDeque<Result<Vec<u8>, std::io::Error>>,
        hang: bool,
    }

    impl futures_core::Stream for Chunks {
        type Item = Result<Vec<u8>, std::io::Error>;
        fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            match self.chunks.pop_front() {
                Some(chunk) => Poll::Ready(Some(chunk)),
                None if self.hang => Poll::Pending,
                None => Poll::Ready(None),
            }
        }
    }

    pub fn from_chunks(chunks: Vec<Result<Vec<u8>, std::io::Error>>, hang: bool) -> Chunks {
        Chunks {
            chunks: chunks.into(),
            hang,
        }
    }
}

fn file_object(file: &FakeFile) -> Value {
    json!({
        "id": file.id,
        "object": "file",
        "bytes": file.bytes.len(),
        "created_at": file.created_at,
        "expires_at": null,
        "filename": file.filename,
        "purpose": file.purpose,
        "status": "processed",
        "status_details": null,
    })
}

async fn upload(State(state): State<Shared>, mut multipart: Multipart) -> Response {
    let fault = state
        .lock()
        .unwrap()
        .take_fault(Route::Upload, String::new());
    if let Some(response) = before(fault, &state).await {
        return response;
    }
    let (mut filename, mut bytes, mut purpose) = (None, None, None);
    while let Ok(Some(field)) = multipart.next_field().await {
        match field.name() {
            Some("file") => {
                filename = field.file_name().map(str::to_string);
                bytes = Some(field.bytes().await.unwrap().to_vec());
            }
            Some("purpose") => purpose = Some(field.text().await.unwrap()),
            _ => {}
        }
    }
    let (Some(filename), Some(bytes), Some(purpose)) = (filename, bytes, purpose) else {
        return error(
            400,
            "'file' and 'purpose' are required",
            "invalid_request_error",
            None,
        );
    };
    if purpose != "batch" {
        return error(
            400,
            "purpose must be batch here",
            "invalid_request_error",
            None,
        );
    }
    let object = {
        let mut state = state.lock().unwrap();
        let id = state.id("file-");
        let file = FakeFile {
            id,
            filename,
            purpose,
            bytes,
            created_at: now(),
        };
        let object = file_object(&file);
        state.files.push(file);
        state.files_uploaded += 1;
        object
    };
    if let Some(response) = after(fault).await {
        return response;
    }
    Json(object).into_response()
}

/// `after`/`limit` pagination over objects newest first.
fn page(objects: &[Value], query: &BTreeMap<String, String>, default_limit: usize) -> Value {
    let limit = query
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(default_limit);
    let start = query
        .get("after")
        .and_then(|after| objects.iter().position(|o| o["id"] == after.as_str()))
        .map_or(0, |i| i + 1);
    let data: Vec<Value> = objects.iter().skip(start).take(limit).cloned().collect();
    json!({
        "object": "list",
        "first_id": data.first().map(|o| o["id"].clone()),
        "last_id": data.last().map(|o| o["id"].clone()),
        "has_more": start + data.len() < objects.len(),
        "data": data,
    })
}

async fn list_files(
    State(state): State<Shared>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    let fault = state
        .lock()
        .unwrap()
        .take_fault(Route::ListFiles, String::new());
    if let Some(response) = before(fault, &state).await {
        return response;
    }
    let state = state.lock().unwrap();
    let files: Vec<Value> = state
        .files
        .iter()
        .rev()
        .filter(|f| query.get("purpose").is_none_or(|p| *p == f.purpose))
        .map(file_object)
        .collect();
    Json(page(&files, &query, 10_000)).into_response()
}

async fn delete_file(State(state): State<Shared>, Path(id): Path<String>) -> Response {
    let fault = state
        .lock()
        .unwrap()
        .take_fault(Route::DeleteFile, id.clone());
    if let Some(response) = before(fault, &state).await {
        return response;
    }
    let mut state = state.lock().unwrap();
    let Some(index) = state.files.iter().position(|f| f.id == id) else {
        return error(
            404,
            &format!("No such File object: {id}"),
            "invalid_request_error",
            None,
        );
    };
    state.files.remove(index);
    Json(json!({"id": id, "object": "file", "deleted": true})).into_response()
}

async fn content(State(state): State<Shared>, Path(id): Path<String>) -> Response {
    let fault = state.lock().unwrap().take_fault(Route::Content, id.clone());
    if let Some(response) = before(fault, &state).await {
        return response;
    }
    let Some(bytes) = state
        .lock()
        .unwrap()
        .files
        .iter()
        .find(|f| f.id == id)
        .map(|f| f.bytes.clone())
    else {
        return error(
            404,
            &format!("No such File object: {id}"),
            "invalid_request_error",
            None,
        );
    };
    let half = bytes.len() / 2;
    let (chunks, hang) = match fault {
        Some(Fault::HalfBodyThenDrop) => (
            vec![
                Ok(bytes[..half].to_vec()),
                Err(std::io::Error::other("reset")),
            ],
            false,
        ),
        Some(Fault::HalfBodyThenHang) => (vec![Ok(bytes[..half].to_vec())], true),
        _ => (vec![Ok(bytes.clone())], false),
    };
    Response::builder()
        .status(200)
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_LENGTH, bytes.len())
        .body(Body::from_stream(futures_stream(chunks, hang)))
        .unwrap()
}

fn batch_object(
    id: &str,
    input_file_id: &str,
    model: &str,
    total: usize,
    metadata: &Value,
) -> Value {
    let created = now();
    json!({
        "id": id,
        "object": "batch",
        "endpoint": "/v1/chat/completions",
        "model": model,
        "errors": null,
        "input_file_id": input_file_id,
        "completion_window": "24h",
        "status": "validating",
        "output_file_id": null,
        "error_file_id": null,
        "created_at": created,
        "in_progress_at": null,
        "expires_at": created + 86_400,
        "finalizing_at": null,
        "completed_at": null,
        "failed_at": null,
        "expired_at": null,
        "cancelling_at": null,
        "cancelled_at": null,
        "request_counts": {"total": total, "completed": 0, "failed": 0},
        "usage": {
            "input_tokens": 0,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 0,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 0
        },
        "metadata": metadata,
    })
}

async fn create(State(state): State<Shared>, Json(body): Json<Value>) -> Response {
    let fault = state
        .lock()
        .unwrap()
        .take_fault(Route::Create, body.to_string());
    if let Some(response) = before(fault, &state).await {
        return response;
    }
    if body["endpoint"] != "/v1/chat/completions" || body["completion_window"] != "24h" {
        return error(
            400,
            "unsupported endpoint or completion window",
            "invalid_request_error",
            None,
        );
    }
    let input_file_id = body["input_file_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let object = {
        let mut state = state.lock().unwrap();
        let Some(file) = state.files.iter().find(|f| f.id == input_file_id) else {
            return error(
                404,
                &format!("No such File object: {input_file_id}"),
                "invalid_request_error",
                None,
            );
        };
        let requests: Vec<Value> = String::from_utf8_lossy(&file.bytes)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let model = requests
            .first()
            .map_or("gpt-4o", |r| {
                r["body"]["model"].as_str().unwrap_or("gpt-4o")
            })
            .to_string();
        let shard = body["metadata"]["safesft_shard"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let scenario = state
            .scenarios
            .get(&shard)
            .cloned()
            .unwrap_or(Scenario::Complete { error_every: None });
        let id = state.id("batch_");
        let object = batch_object(
            &id,
            &input_file_id,
            &model,
            requests.len(),
            &body["metadata"],
        );
        state.batches.push(FakeBatch {
            object: object.clone(),
            requests,
            scenario,
            polls: 0,
        });
        state.batches_created += 1;
        object
    };
    if let Some(response) = after(fault).await {
        return response;
    }
    Json(object).into_response()
}

async fn list_batches(
    State(state): State<Shared>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    let fault = state
        .lock()
        .unwrap()
        .take_fault(Route::ListBatches, String::new());
    if let Some(response) = before(fault, &state).await {
        return response;
    }
    let state = state.lock().unwrap();
    let batches: Vec<Value> = state
        .batches
        .iter()
        .rev()
        .map(|b| b.object.clone())
        .collect();
    Json(page(&batches, &query, 20)).into_response()
}

/// A chat.completion body for one request, shaped like the real one. Paraphrases are
/// faithful rule-made rewrites of the note; with `defects`, first attempts are sometimes
/// truncated, refused, preambled, or (reasoning) broken JSON or fenced JSON.
fn completion(request: &Value, index: usize, defects: bool, verifier: &mut Verifier) -> Value {
    let custom_id = request["custom_id"].as_str().unwrap_or_default();
    let prompt: String = request["body"]["messages"]
        .as_array()
        .map(|m| m.iter().filter_map(|m| m["content"].as_str()).collect())
        .unwrap_or_default();
    // Requests alternate paraphrase, reasoning: defects go by pair, so both kinds get each.
    let defect = if defects && custom_id.ends_with("|1") {
        (index / 2) % 5
    } else {
        0
    };
    let reasoning = custom_id.contains("|reasoning|");
    let verify = custom_id.contains("|verify|");
    // Verify requests (first attempts) are refused or preambled now and then: answers
    // that cannot be read, to retry.
    let defect = match (verify, defects && custom_id.ends_with("|1"), index % 7) {
        (true, true, 3) => 2,
        (true, true, 5) => 3,
        (true, _, _) => 0,
        (false, _, _) => defect,
    };
    let mut finish_reason = "stop";
    let mut refusal = Value::Null;
    let mut content = if verify && defect == 0 {
        verify_answer(request, verifier)
    } else if verify {
        json!({"differences": [], "verdict": "same"}).to_string()
    } else if reasoning {
        json!({
            "error_identified": "The organism named does not fit the presentation.",
            "why_wrong": "Disulfiram-like reaction after alcohol points to metronidazole therapy.",
            "key_clues": ["flushing after one beer", "recent antimicrobial therapy", "genitourinary infection"],
            "correct_answer": "Trichomonas vaginalis treated with metronidazole.",
            "clinical_impact": "Wrong organism leads to wrong treatment."
        })
        .to_string()
    } else {
        let note = request["body"]["messages"][1]["content"]
            .as_str()
            .unwrap_or_default()
            .split_once("\n\n")
            .map_or("", |(_, note)| note);
        let faithful = crate::safety_benchmark::mutations::faithful(note);
        let note_id = custom_id.split('|').next().unwrap_or_default().to_string();
        match (verifier.doubt_every, verifier.alter_every) {
            (Some(every), _) if defect == 0 => {
                verifier.doubts_seen += 1;
                if verifier.doubts_seen.is_multiple_of(every) {
                    let doubted = format!("{faithful}{DOUBT}");
                    verifier.doubted_notes.push(note_id.clone());
                    let made = verifier.doubted_notes.len();
                    if verifier
                        .doubt_flag_every
                        .is_some_and(|n| made.is_multiple_of(n))
                    {
                        verifier.doubted_flagged.push(note_id.clone());
                        verifier.altered.insert(
                            doubted.clone(),
                            (note_id, "(nothing)".into(), DOUBT.trim().into()),
                        );
                    }
                    doubted
                } else {
                    faithful
                }
            }
            (None, Some(every)) if defect == 0 => match alter(&faithful) {
                // Every `every`-th paraphrase that can be altered is.
                Some((altered, from, to)) => {
                    verifier.paraphrases_seen += 1;
                    if verifier.paraphrases_seen.is_multiple_of(every) {
                        verifier.altered_notes.push(note_id.clone());
                        verifier
                            .altered
                            .insert(altered.clone(), (note_id, from, to));
                        altered
                    } else {
                        faithful
                    }
                }
                None => faithful,
            },
            _ => faithful,
        }
    };
    match (defect, reasoning) {
        (1, _) => {
            finish_reason = "length";
            let cut = content.len() / 2;
            let cut = (0..=cut)
                .rev()
                .find(|i| content.is_char_boundary(*i))
                .unwrap_or(0);
            content.truncate(cut);
        }
        (2, _) => {
            refusal = json!("I'm sorry, but I can't help with that.");
            content = String::new();
        }
        (3, false) => content = format!("Here is the paraphrased note:\n\n{content}"),
        (3, true) => content = "{\"error_identified\": \"unclear\", \"why_wrong\": ".into(),
        (4, true) => content = format!("```json\n{content}\n```"),
        _ => {}
    }
    let prompt_tokens = prompt.len() as u64 / 4 + 10;
    let completion_tokens = content.len() as u64 / 4 + 1;
    let cached_tokens = if index.is_multiple_of(4) {
        prompt_tokens.min(128)
    } else {
        0
    };
    json!({
        "id": format!("chatcmpl-{index:08}"),
        "object": "chat.completion",
        "created": now(),
        "model": if verify { "gpt-4o-mini-2024-07-18" } else { "gpt-4o-2024-08-06" },
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": if refusal.is_null() { json!(content) } else { Value::Null }, "refusal": refusal, "annotations": []},
            "logprobs": null,
            "finish_reason": finish_reason
        }],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": cached_tokens, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
        },
        "service_tier": "default",
        "system_fingerprint": "fp_fake"
    })
}

/// Writes a batch's output and error files, in a shuffled order like the real API's.
fn finish_files(
    state: &mut FakeState,
    batch: usize,
    done: usize,
    fail: &dyn Fn(usize) -> bool,
    rest: Option<&str>,
) {
    let requests = state.batches[batch].requests.clone();
    let defects = state.defects;
    let mut verifier = std::mem::take(&mut state.verifier);
    let mut output = Vec::new();
    let mut errors = Vec::new();
    for (index, request) in requests.iter().enumerate() {
        let line_id = format!("batch_req_{index:06}");
        let custom_id = request["custom_id"].clone();
        if index >= done {
            let code = rest.unwrap_or("batch_expired");
            errors.push(json!({
                "id": line_id, "custom_id": custom_id, "response": null,
                "error": {"code": code, "message": "This request could not be executed before the batch ended."}
            }));
        } else if fail(index) {
            errors.push(json!({
                "id": line_id, "custom_id": custom_id,
                "response": {"status_code": 400, "request_id": format!("req_{index:06}"), "body": {"error": {"message": "Invalid request.", "type": "invalid_request_error", "param": null, "code": null}}},
                "error": null
            }));
        } else {
            output.push(json!({
                "id": line_id, "custom_id": custom_id,
                "response": {"status_code": 200, "request_id": format!("req_{index:06}"), "body": completion(request, index, defects, &mut verifier)},
                "error": null
            }));
        }
    }
    state.verifier = verifier;
    if state.malformed {
        for (line, bad) in output.iter_mut().zip(0..3) {
            let body = &mut line["response"]["body"];
            match bad {
                0 => *body = json!("a string"),
                1 => body["usage"]["prompt_tokens"] = json!("lots"),
                _ => body["usage"]["prompt_tokens"] = json!(-500),
            }
        }
    }
    // A fixed shuffle: results come back in another order than asked.
    output.reverse();
    let half = output.len() / 2;
    output.rotate_left(half);
    let completed = output.len();
    let failed = errors.len();
    let file_for = |lines: Vec<Value>, state: &mut FakeState| -> Option<String> {
        if lines.is_empty() {
            return None;
        }
        let id = state.id("file-");
        let mut bytes = Vec::new();
        for line in lines {
            bytes.extend_from_slice(line.to_string().as_bytes());
            bytes.push(b'\n');
        }
        state.files.push(FakeFile {
            id: id.clone(),
            filename: "batch_output.jsonl".into(),
            purpose: "batch_output".into(),
            bytes,
            created_at: now(),
        });
        Some(id)
    };
    let output_id = file_for(output, state);
    let error_id = file_for(errors, state);
    let object = &mut state.batches[batch].object;
    object["output_file_id"] = json!(output_id);
    object["error_file_id"] = json!(error_id);
    object["request_counts"] =
        json!({"total": requests.len(), "completed": completed, "failed": failed});
}

/// Moves a batch one step along its scenario.
fn advance(state: &mut FakeState, batch: usize) {
    let t = now();
    let entry = &mut state.batches[batch];
    entry.polls += 1;
    let total = entry.requests.len();
    let status = entry.object["status"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let polls = entry.polls;
    let scenario = entry.scenario.clone();
    let object = &mut entry.object;
    match (status.as_str(), scenario) {
        ("validating", Scenario::FailValidation { code }) => {
            object["status"] = json!("failed");
            object["failed_at"] = json!(t);
            object["request_counts"] = json!({"total": 0, "completed": 0, "failed": 0});
            object["errors"] = json!({"object": "list", "data": [{"code": code, "message": format!("Batch failed: {code}"), "param": null, "line": null}]});
        }
        ("validating", _) => {
            object["status"] = json!("in_progress");
            object["in_progress_at"] = json!(t);
        }
        ("in_progress", Scenario::ExpireHalf) => {
            object["status"] = json!("expired");
            object["expired_at"] = json!(t);
            finish_files(state, batch, total / 2, &|_| false, Some("batch_expired"));
        }
        ("in_progress", scenario) if polls <= 2 => {
            let error_every = match scenario {
                Scenario::Complete { error_every } => error_every,
                _ => None,
            };
            let done = total / 2;
            let failed = error_every.map_or(0, |n| (0..done).filter(|i| (i + 1) % n == 0).count());
            object["request_counts"] =
                json!({"total": total, "completed": done - failed, "failed": failed});
        }
        ("in_progress", _) => {
            object["status"] = json!("finalizing");
            object["finalizing_at"] = json!(t);
        }
        ("finalizing", scenario) => {
            object["status"] = json!("completed");
            object["completed_at"] = json!(t);
            match scenario {
                Scenario::AllFail => {
                    finish_files(state, batch, total, &|_| true, None);
                    state.batches[batch].object["output_file_id"] = Value::Null;
                }
                Scenario::Complete {
                    error_every: Some(n),
                } => {
                    finish_files(state, batch, total, &|i| (i + 1) % n == 0, None);
                }
                _ => finish_files(state, batch, total, &|_| false, None),
            }
        }
        ("cancelling", _) => {
            object["status"] = json!("cancelled");
            object["cancelled_at"] = json!(t);
            finish_files(state, batch, total / 2, &|_| false, Some("batch_cancelled"));
        }
        _ => {}
    }
}

async fn retrieve(State(state): State<Shared>, Path(id): Path<String>) -> Response {
    let fault = state
        .lock()
        .unwrap()
        .take_fault(Route::Retrieve, id.clone());
    if let Some(response) = before(fault, &state).await {
        return response;
    }
    let object = {
        let mut state = state.lock().unwrap();
        let Some(index) = state
            .batches
            .iter()
            .position(|b| b.object["id"] == id.as_str())
        else {
            return error(
                404,
                &format!("No batch found with id '{id}'."),
                "invalid_request_error",
                None,
            );
        };
        advance(&mut state, index);
        state.batches[index].object.clone()
    };
    if let Some(response) = after(fault).await {
        return response;
    }
    Json(object).into_response()
}

async fn cancel(
    State(state): State<Shared>,
    Path(id): Path<String>,
    _headers: HeaderMap,
) -> Response {
    let fault = state.lock().unwrap().take_fault(Route::Cancel, id.clone());
    if let Some(response) = before(fault, &state).await {
        return response;
    }
    let object = {
        let mut state = state.lock().unwrap();
        let Some(index) = state
            .batches
            .iter()
            .position(|b| b.object["id"] == id.as_str())
        else {
            return error(
                404,
                &format!("No batch found with id '{id}'."),
                "invalid_request_error",
                None,
            );
        };
        let object = &mut state.batches[index].object;
        let status = object["status"].as_str().unwrap_or_default().to_string();
        if !matches!(status.as_str(), "validating" | "in_progress" | "finalizing") {
            return error(
                409,
                &format!("Cannot cancel a batch with status '{status}'."),
                "invalid_request_error",
                None,
            );
        }
        object["status"] = json!("cancelling");
        object["cancelling_at"] = json!(now());
        object.clone()
    };
    if let Some(response) = after(fault).await {
        return response;
    }
    Json(object).into_response()
}
