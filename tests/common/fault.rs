//! A scripted HTTP/1.1 server on 127.0.0.1 for what no real service does on
//! demand: 5xx bursts, 429s, malformed or foreign answers, a registry that
//! is down. Every request is recorded; each answer comes from a closure given
//! the request and its index. One connection per request (`Connection:
//! close`), so clients cannot pool around a failure.
//!
//! [`FaultProxy`] puts the same faults (and refused, reset, stalled, slow
//! and truncated connections) in front of a real server.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// One request as received.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    /// Path and query, as on the request line.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The request line (`POST /api/v2/signingCert`), without the version.
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.target)
    }

    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A query parameter, percent-decoded.
    pub fn query(&self, key: &str) -> Option<String> {
        let (_, query) = self.target.split_once('?')?;
        query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == key).then(|| percent_decode(v))
        })
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON request body")
    }
}

pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (c, _) => {
                out.push(if c == b'+' { b' ' } else { c });
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An answer: status (its reason phrase is the standard one), extra headers
/// and a body (`Content-Type: application/json` unless a header says otherwise).
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn new(status: u16, body: impl Into<String>) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    fn write_to(&self, stream: &mut TcpStream) {
        let reason = http::StatusCode::from_u16(self.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Unknown");
        let mut head = format!(
            "HTTP/1.1 {} {reason}\r\nContent-Length: {}\r\nConnection: close\r\n",
            self.status,
            self.body.len()
        );
        if !self
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            head.push_str("Content-Type: application/json\r\n");
        }
        for (k, v) in &self.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(self.body.as_bytes());
    }
}

type Script = Box<dyn Fn(&Request, usize) -> Reply + Send + Sync>;

/// The server; stops (and joins its thread) when dropped.
pub struct FaultServer {
    pub port: u16,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FaultServer {
    /// Answer the `n`th request (from 0) with `reply(request, n)`.
    pub fn start(reply: impl Fn(&Request, usize) -> Reply + Send + Sync + 'static) -> FaultServer {
        let reply: Script = Box::new(reply);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen, halt) = (requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if halt.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                let Some(request) = read_request(&stream) else {
                    continue;
                };
                let n = {
                    let mut all = seen.lock().unwrap();
                    all.push(request.clone());
                    all.len() - 1
                };
                reply(&request, n).write_to(&mut stream);
            }
        });
        FaultServer {
            port,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    /// Answer every request alike.
    pub fn always(status: u16, body: impl Into<String>) -> FaultServer {
        let body = body.into();
        FaultServer::start(move |_, _| Reply::new(status, body.clone()))
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    pub fn hits(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees `stop`.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Request line, headers and a Content-Length body; None on a connection
/// that closes or stalls (5 s) first.
fn read_request(stream: &TcpStream) -> Option<Request> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut r = BufReader::new(stream);
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).ok()? == 0 {
            break;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let length = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    r.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        target,
        headers,
        body,
    })
}

/// What a [`FaultProxy`] does to the requests it applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Forward the request and the answer unchanged.
    Pass,
    /// Nothing listens on the proxy's port: connections are refused.
    Refuse,
    /// Forward; send half the answer's head, then reset the connection (RST).
    Reset,
    /// Read the request and never answer; the connection stays open.
    Stall,
    /// Forward; send the answer a byte at a time, [`SLOW_PAUSE`] apart.
    Slow,
    /// Forward; send the answer's head and half its body, then close.
    Truncate,
    /// Answer with this status (5xx, 429, 401...) without forwarding.
    Status(u16),
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::Status(code) => write!(f, "HTTP {code}"),
            other => write!(f, "{}", format!("{other:?}").to_lowercase()),
        }
    }
}

/// The faults every backend is tried against.
pub const FAULTS: [Fault; 8] = [
    Fault::Refuse,
    Fault::Reset,
    Fault::Stall,
    Fault::Slow,
    Fault::Truncate,
    Fault::Status(503),
    Fault::Status(429),
    Fault::Status(401),
];

/// The pause between the bytes of a [`Fault::Slow`] answer.
pub const SLOW_PAUSE: Duration = Duration::from_millis(250);

/// Whether the fault applies to a request, given its head (request line and
/// headers, as text).
type Applies = Box<dyn Fn(&str) -> bool + Send + Sync>;

/// A TCP proxy on 127.0.0.1 in front of a real server that injects one
/// [`Fault`] into the requests a predicate (method, target) selects and
/// forwards the rest. Each request gets its own upstream connection and is
/// answered with `Connection: close`, so a client cannot pool around a
/// fault. The fault can be changed while it runs ([`FaultProxy::set_fault`]),
/// so one long-lived client (a controller) can meet each fault in turn.
/// Stops accepting when dropped; stalled connections are released.
pub struct FaultProxy {
    pub port: u16,
    fault: Arc<Mutex<Fault>>,
    /// Whether the port is listening (false while the fault is Refuse).
    listening: Arc<AtomicBool>,
    faulted: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// `fault` on every request to the server on `upstream` (a port on 127.0.0.1).
    pub fn start(upstream: u16, fault: Fault) -> FaultProxy {
        FaultProxy::start_when(upstream, fault, |_| true)
    }

    /// `fault` on the requests for which `applies(head)` holds (the head is
    /// the request line and headers, as text); the others are forwarded.
    pub fn start_when(
        upstream: u16,
        fault: Fault,
        applies: impl Fn(&str) -> bool + Send + Sync + 'static,
    ) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        // Refused from the start: the port was just ours; closing it leaves
        // nothing listening.
        let listener = (fault != Fault::Refuse).then_some(listener);
        let listening = Arc::new(AtomicBool::new(listener.is_some()));
        let faulted = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let mode = Arc::new(Mutex::new(fault));
        let applies: Arc<Applies> = Arc::new(Box::new(applies));
        let (seen, halt, now, open) = (
            faulted.clone(),
            stop.clone(),
            mode.clone(),
            listening.clone(),
        );
        let thread = std::thread::spawn(move || {
            let mut listener = listener;
            while !halt.load(Ordering::SeqCst) {
                let fault = *now.lock().unwrap();
                if fault == Fault::Refuse {
                    listener = None;
                    open.store(false, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
                let Some(l) = &listener else {
                    // Listen again on the same port (std sets SO_REUSEADDR).
                    match TcpListener::bind(("127.0.0.1", port)) {
                        Ok(l) => {
                            listener = Some(l);
                            open.store(true, Ordering::SeqCst);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(10)),
                    }
                    continue;
                };
                let Ok((client, _)) = l.accept() else {
                    continue;
                };
                // A wake-up from `set_fault` or `drop`, or a client that
                // came as the port was closing: dropped, as a refusal is.
                let fault = *now.lock().unwrap();
                if halt.load(Ordering::SeqCst) || fault == Fault::Refuse {
                    continue;
                }
                let (seen, halt, applies) = (seen.clone(), halt.clone(), applies.clone());
                std::thread::spawn(move || {
                    let _ = serve(client, upstream, fault, &applies, &seen, &halt);
                });
            }
        });
        FaultProxy {
            port,
            fault: mode,
            listening,
            faulted,
            stop,
            thread: Some(thread),
        }
    }

    /// The fault applied to new connections.
    pub fn fault(&self) -> Fault {
        *self.fault.lock().unwrap()
    }

    /// Apply `fault` to the connections accepted from now on; returns once
    /// the port is closed (Refuse) or listening again (any other fault).
    /// Connections already open keep the fault they met.
    pub fn set_fault(&self, fault: Fault) {
        *self.fault.lock().unwrap() = fault;
        // Wake the accept loop so it sees the new fault.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        let want = fault != Fault::Refuse;
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while self.listening.load(Ordering::SeqCst) != want {
            assert!(
                std::time::Instant::now() < deadline,
                "fault proxy: port {} not {} after 60s",
                self.port,
                if want { "listening" } else { "closed" }
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// `127.0.0.1:PORT`
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.host())
    }

    /// The request lines the fault was applied to, in order (a refused
    /// port sees no request).
    pub fn faulted(&self) -> Vec<String> {
        self.faulted.lock().unwrap().clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if self.listening.load(Ordering::SeqCst) {
            let _ = TcpStream::connect(("127.0.0.1", self.port));
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The bytes up to and including the blank line after the headers, and
/// whatever was read past it; None when the peer closes or stalls first.
fn read_head(stream: &mut TcpStream) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return Some((buf, rest));
        }
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 || buf.len() > 1 << 20 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// `head` with its `Connection` header replaced by `Connection: close`.
fn closing(head: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(head);
    let mut out = String::new();
    for line in text.split("\r\n").filter(|l| !l.is_empty()) {
        let name = line.split(':').next().unwrap_or("").trim();
        if !name.eq_ignore_ascii_case("connection") && !name.eq_ignore_ascii_case("keep-alive") {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    out.into_bytes()
}

/// Close with a reset (SO_LINGER 0) instead of an orderly FIN.
fn reset(stream: TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket and a correctly sized option value.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &linger as *const libc::linger as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    drop(stream);
}

/// One client connection: one request, faulted or forwarded.
fn serve(
    mut client: TcpStream,
    upstream: u16,
    fault: Fault,
    applies: &Applies,
    faulted: &Mutex<Vec<String>>,
    stop: &AtomicBool,
) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(30)))?;
    let Some((head, early_body)) = read_head(&mut client) else {
        return Ok(());
    };
    let text = String::from_utf8_lossy(&head).into_owned();
    let fault = if applies(&text) { fault } else { Fault::Pass };
    if fault != Fault::Pass {
        let line = text.lines().next().unwrap_or("");
        let line = line.rsplit_once(' ').map_or(line, |(l, _)| l);
        faulted.lock().unwrap().push(line.to_string());
    }
    match fault {
        Fault::Stall => {
            // Hold the connection until the client gives up or the proxy stops.
            client.set_read_timeout(Some(Duration::from_millis(100)))?;
            let mut sink = [0u8; 4096];
            while !stop.load(Ordering::SeqCst) {
                match client.read(&mut sink) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) => {}
                    Err(_) => break,
                }
            }
            return Ok(());
        }
        Fault::Status(code) => {
            // Read the body first: closing on unread data would send a reset.
            let length = content_length(&head);
            let mut body = early_body;
            client.set_read_timeout(Some(Duration::from_secs(5)))?;
            let mut chunk = [0u8; 4096];
            while body.len() < length {
                match client.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => body.extend_from_slice(&chunk[..n]),
                }
            }
            let mut reply = Reply::new(code, format!("fault proxy: injected HTTP {code}"))
                .header("Content-Type", "text/plain");
            if code == 429 || code == 503 {
                reply = reply.header("Retry-After", "1");
            }
            reply.write_to(&mut client);
            return Ok(());
        }
        _ => {}
    }
    // Forward the request (asking upstream to close after it), then the answer.
    let mut server = TcpStream::connect(("127.0.0.1", upstream))?;
    server.write_all(&closing(&head))?;
    server.write_all(&early_body)?;
    if String::from_utf8_lossy(&head)
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        // A body of unknown length: copied as it comes. (That thread holds
        // a second handle of the client socket, so a reset below becomes a
        // close; the clients tested send Content-Length.)
        let (mut from_client, mut to_server) = (client.try_clone()?, server.try_clone()?);
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut from_client, &mut to_server);
        });
    } else {
        let rest = content_length(&head).saturating_sub(early_body.len());
        std::io::copy(&mut (&client).take(rest as u64), &mut server)?;
    }
    server.set_read_timeout(Some(Duration::from_secs(60)))?;
    let Some((answer_head, mut answer)) = read_head(&mut server) else {
        return Ok(());
    };
    let answer_head = closing(&answer_head);
    if fault == Fault::Pass {
        client.write_all(&answer_head)?;
        client.write_all(&answer)?;
        std::io::copy(&mut server, &mut client)?;
        return Ok(());
    }
    server.read_to_end(&mut answer)?;
    let mut whole = answer_head.clone();
    whole.extend_from_slice(&answer);
    // A reset comes in the middle of the head; a cut answer has its whole
    // head and half its body (or half its head when it has no body).
    let cut = if answer.is_empty() || fault == Fault::Reset {
        answer_head.len() / 2
    } else {
        answer_head.len() + answer.len() / 2
    };
    match fault {
        Fault::Truncate => {
            client.write_all(&whole[..cut])?;
            client.shutdown(std::net::Shutdown::Write)?;
            // Let the client read what was sent before the socket goes.
            client.set_read_timeout(Some(Duration::from_secs(5)))?;
            let _ = client.read(&mut [0u8; 1]);
        }
        Fault::Reset => {
            client.write_all(&whole[..cut])?;
            reset(client);
        }
        Fault::Slow => {
            for byte in &whole {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                client.write_all(std::slice::from_ref(byte))?;
                std::thread::sleep(SLOW_PAUSE);
            }
        }
        _ => unreachable!("handled above"),
    }
    Ok(())
}

fn content_length(head: &[u8]) -> usize {
    String::from_utf8_lossy(head)
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0)
}
