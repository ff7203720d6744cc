//! A small HTTP/1.1 server over `std::net`: one thread per connection, keep-alive.
//!
//! Requests are read with their `Content-Length` body (chunked request bodies are
//! rejected with 411). Every response carries `Content-Length`. A connection stays
//! open until the client sends `Connection: close`, speaks HTTP/1.0 without
//! `Connection: keep-alive`, stays idle for `IDLE_TIMEOUT`, or a handler drops it.
//! Routing is up to the handler passed to [`serve`], so this module has no API logic.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// Longest accepted request line or header line, in bytes.
const MAX_LINE: u64 = 16 * 1024;
/// Most header lines accepted in one request.
const MAX_HEADERS: usize = 100;
/// Largest accepted request body, in bytes.
const MAX_BODY: usize = 64 * 1024 * 1024;
/// How long an idle keep-alive connection is kept before the server closes it.
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// A parsed request. `path` is the raw target path (not percent-decoded).
pub struct Request {
    pub method: String,
    pub target: String,
    pub path: String,
    pub query: String,
    headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    keep_alive: bool,
}

/// A complete response; `Content-Length` is added when it is written.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Arc<Vec<u8>>,
}

/// Handler decision for one request.
pub enum Outcome {
    /// Send the response.
    Respond(Response),
    /// Close the connection without sending anything.
    Drop,
    /// Send the headers (with the full `Content-Length`) and only this many body bytes,
    /// then close the connection.
    Truncate(Response, usize),
}

/// The request handler shared by all connection threads.
pub type Handler = dyn Fn(&Request) -> Outcome + Send + Sync;

impl Request {
    /// Returns the first value of a header, matching the name case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

impl Response {
    /// Builds a response with a body and a `Content-Type`.
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".to_string(), content_type.to_string())],
            body: Arc::new(body.into()),
        }
    }

    /// Builds a response with no body and no `Content-Type`.
    pub fn empty(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Arc::new(Vec::new()),
        }
    }

    /// Builds an `application/json` response.
    pub fn json(status: u16, text: String) -> Response {
        Response::new(status, "application/json", text)
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

/// Accepts connections forever, serving each on its own thread.
pub fn serve(listener: TcpListener, handler: Arc<Handler>) {
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => {
                let handler = Arc::clone(&handler);
                thread::spawn(move || {
                    if let Err(error) = serve_connection(stream, handler.as_ref()) {
                        log::debug!("connection closed with an error: {error}");
                    }
                });
            }
            Err(error) => log::warn!("accept failed: {error}"),
        }
    }
}

fn serve_connection(stream: TcpStream, handler: &Handler) -> io::Result<()> {
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(IDLE_TIMEOUT))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let request = match read_request(&mut reader, &mut writer) {
            Ok(Some(request)) => request,
            Ok(None) => return Ok(()),
            Err(error) => {
                let status = if error.kind() == io::ErrorKind::Unsupported {
                    411
                } else {
                    400
                };
                let response = Response::new(status, "text/plain", error.to_string());
                return write_response(&mut writer, &response, false, None);
            }
        };
        let keep_alive = request.keep_alive;
        match handler(&request) {
            Outcome::Respond(response) => write_response(&mut writer, &response, keep_alive, None)?,
            Outcome::Drop => return Ok(()),
            Outcome::Truncate(response, limit) => {
                return write_response(&mut writer, &response, false, Some(limit));
            }
        }
        if !keep_alive {
            return Ok(());
        }
    }
}

/// Reads one request; `Ok(None)` means the client closed the connection between requests.
/// A `100 Continue` goes to `writer` when the client sent `Expect: 100-continue`.
fn read_request(reader: &mut impl BufRead, writer: &mut impl Write) -> io::Result<Option<Request>> {
    let Some(request_line) = read_line(reader)? else {
        return Ok(None);
    };
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid(format!("malformed request line {request_line:?}")));
    };
    let headers = read_headers(reader)?;
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut request = Request {
        method: method.to_string(),
        target: target.to_string(),
        path: path.to_string(),
        query: query.to_string(),
        headers,
        body: Vec::new(),
        keep_alive: false,
    };
    request.keep_alive = wants_keep_alive(&request, version)?;
    let expects_continue = request
        .header("expect")
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
    if expects_continue && request.header("content-length").is_some() {
        writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        writer.flush()?;
    }
    request.body = read_body(reader, &request)?;
    Ok(Some(request))
}

fn read_headers(reader: &mut impl BufRead) -> io::Result<Vec<(String, String)>> {
    let mut headers = Vec::new();
    loop {
        let line = read_line(reader)?.ok_or_else(|| invalid("connection closed in headers"))?;
        if line.is_empty() {
            return Ok(headers);
        }
        if headers.len() == MAX_HEADERS {
            return Err(invalid(format!("more than {MAX_HEADERS} header lines")));
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| invalid(format!("malformed header {line:?}")))?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
}

fn wants_keep_alive(request: &Request, version: &str) -> io::Result<bool> {
    let connection = request
        .header("connection")
        .unwrap_or("")
        .to_ascii_lowercase();
    let has_token = |token: &str| connection.split(',').any(|t| t.trim() == token);
    match version {
        "HTTP/1.1" => Ok(!has_token("close")),
        "HTTP/1.0" => Ok(has_token("keep-alive")),
        _ => Err(invalid(format!("unsupported HTTP version {version:?}"))),
    }
}

fn read_body(reader: &mut impl BufRead, request: &Request) -> io::Result<Vec<u8>> {
    if request.header("transfer-encoding").is_some() {
        let message = "chunked request bodies are not supported: send Content-Length";
        return Err(io::Error::new(io::ErrorKind::Unsupported, message));
    }
    let Some(length) = request.header("content-length") else {
        return Ok(Vec::new());
    };
    let length: usize = length
        .parse()
        .map_err(|_| invalid(format!("invalid Content-Length {length:?}")))?;
    if length > MAX_BODY {
        return Err(invalid(format!(
            "body of {length} bytes is above the {MAX_BODY}-byte limit"
        )));
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(body)
}

/// Reads a CRLF- or LF-terminated line without its terminator; `None` at a clean EOF.
fn read_line(reader: &mut impl BufRead) -> io::Result<Option<String>> {
    let mut line = Vec::new();
    reader.take(MAX_LINE).read_until(b'\n', &mut line)?;
    if line.is_empty() {
        return Ok(None);
    }
    if line.last() != Some(&b'\n') {
        return Err(invalid(format!(
            "line longer than {MAX_LINE} bytes or cut off"
        )));
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    String::from_utf8(line)
        .map(Some)
        .map_err(|_| invalid("request line or header is not UTF-8"))
}

fn write_response(
    writer: &mut impl Write,
    response: &Response,
    keep_alive: bool,
    body_limit: Option<usize>,
) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason(response.status)
    );
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n", response.body.len()));
    if !keep_alive {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    let body = &response.body[..body_limit.unwrap_or(usize::MAX).min(response.body.len())];
    if body.len() < 64 * 1024 {
        let mut message = head.into_bytes();
        message.extend_from_slice(body);
        writer.write_all(&message)?;
    } else {
        writer.write_all(head.as_bytes())?;
        writer.write_all(body)?;
    }
    writer.flush()
}

/// Returns the standard reason phrase of a status code.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Content Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> io::Result<Option<Request>> {
        read_request(&mut BufReader::new(raw.as_bytes()), &mut io::sink())
    }

    #[test]
    fn request_with_query_and_body() {
        let raw = "POST /a/b?x=1&y=2 HTTP/1.1\r\nX-Api-Key: k\r\nContent-Length: 3\r\n\r\nabc";
        let request = parse(raw).unwrap().unwrap();
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/a/b");
        assert_eq!(request.query, "x=1&y=2");
        assert_eq!(request.header("x-api-key"), Some("k"));
        assert_eq!(request.body, b"abc");
        assert!(request.keep_alive);
    }

    #[test]
    fn expect_continue_gets_interim_response() {
        let raw = "POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}";
        let mut interim = Vec::new();
        let request = read_request(&mut BufReader::new(raw.as_bytes()), &mut interim).unwrap();
        assert_eq!(request.unwrap().body, b"{}");
        assert_eq!(interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    }

    #[test]
    fn connection_close_and_http10() {
        let closing = parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(!closing.keep_alive);
        let old = parse("GET / HTTP/1.0\r\n\r\n").unwrap().unwrap();
        assert!(!old.keep_alive);
        let old_kept = parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(old_kept.keep_alive);
    }

    #[test]
    fn clean_eof_and_malformed_lines() {
        assert!(parse("").unwrap().is_none());
        assert!(parse("GET /\r\n\r\n").is_err());
        assert!(parse("GET / HTTP/1.1\r\nno colon\r\n\r\n").is_err());
        assert!(parse("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").is_err());
    }

    #[test]
    fn truncated_response_keeps_full_length() {
        let response = Response::new(200, "text/plain", "hello world");
        let mut out = Vec::new();
        write_response(&mut out, &response, true, Some(5)).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("Content-Length: 11\r\n"), "{text}");
        assert!(text.ends_with("\r\n\r\nhello"), "{text}");
    }
}
