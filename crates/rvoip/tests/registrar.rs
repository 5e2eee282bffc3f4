//! `rvoip registrar` end to end: the real binary on loopback with an SQLite
//! file, accounts added with `rvoip user`, and phones played by UDP sockets
//! answering challenges with auth-core's digest client.

mod common;
use common::{free_port, sipp_counter, which};

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use auth_core::DigestClient;
use sip_core::Message;
use sip_core::header::{Credentials, Header, HeaderName, WwwAuthenticate};

struct Registrar {
    child: Option<Child>,
    config: PathBuf,
    port: u16,
}

fn rvoip(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rvoip"))
        .args(args)
        .output()
        .expect("run rvoip")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rvoip-reg-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

impl Registrar {
    /// Writes a configuration in `dir` (listening on a free port, SQLite
    /// in `dir`, plus `extra` TOML) without starting the server.
    fn configure(dir: &Path, extra: &str) -> Registrar {
        let sqlite = dir.join("rvoip.db");
        Registrar::configure_with(dir, sqlite.to_str().expect("utf-8"), extra)
    }

    /// The same with the database at `url`.
    fn configure_with(dir: &Path, url: &str, extra: &str) -> Registrar {
        let port = free_port();
        let config = dir.join("rvoip.toml");
        let text = format!(
            "[sip]\nlisten = [\"udp:127.0.0.1:{port}\", \"tcp:127.0.0.1:{port}\"]\n\
             [database]\nurl = \"{url}\"\n{extra}"
        );
        std::fs::write(&config, text).expect("write config");
        Registrar {
            child: None,
            config,
            port,
        }
    }

    /// Adds `line` to the `[sip]` section of the configuration.
    fn sip_option(&self, line: &str) {
        let text = std::fs::read_to_string(&self.config).expect("read config");
        let text = text.replacen("[database]", &format!("{line}\n[database]"), 1);
        std::fs::write(&self.config, text).expect("write config");
    }

    /// `rvoip user --config <this configuration> args...`.
    fn user(&self, args: &[&str]) -> Output {
        let config = self.config.to_str().expect("utf-8");
        rvoip(&[&["user", "--config", config], args].concat())
    }

    fn user_add(&self, aor: &str, password: &str) {
        let out = self.user(&["add", aor, "--password", password]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts the server and waits until it answers OPTIONS.
    fn start(&mut self) {
        let child = Command::new(env!("CARGO_BIN_EXE_rvoip"))
            .args([
                "registrar",
                "--config",
                self.config.to_str().expect("utf-8"),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start rvoip registrar");
        self.child = Some(child);
        let phone = Phone::new("127.0.0.1", self.port);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let options = phone.request("OPTIONS", "ping", 1, &[]);
            if let Some(r) = phone.exchange_once(&options, Duration::from_millis(300)) {
                assert_eq!(code(&r), 200);
                return;
            }
            assert!(Instant::now() < deadline, "the registrar did not come up");
        }
    }

    /// Stops the server with SIGTERM; returns what it printed.
    fn stop(&mut self) -> (String, String) {
        let child = self.child.take().expect("running");
        let ok = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(ok.success());
        let out = child.wait_with_output().expect("wait");
        assert!(out.status.success(), "exit status {:?}", out.status);
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

impl Drop for Registrar {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A phone: a UDP socket on `ip` sending to the registrar.
struct Phone {
    socket: UdpSocket,
    port: u16,
    branch: std::cell::Cell<u32>,
}

/// `GET path` from 127.0.0.1:`port`: the whole HTTP response.
fn http_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut text = String::new();
    s.read_to_string(&mut text).expect("read");
    text
}

fn code(m: &Message) -> u16 {
    m.status().expect("a response").as_u16()
}

fn contacts(m: &Message) -> Vec<String> {
    m.fields_named(HeaderName::Contact)
        .map(|f| f.value_str().expect("utf-8").to_string())
        .collect()
}

impl Phone {
    fn new(ip: &str, port: u16) -> Phone {
        let socket = UdpSocket::bind((ip, 0)).expect("bind phone");
        socket.connect(("127.0.0.1", port)).expect("connect");
        Phone {
            socket,
            port,
            branch: std::cell::Cell::new(0),
        }
    }

    /// A request for `user`@127.0.0.1 with a fresh branch.
    fn request(&self, method: &str, user: &str, cseq: u32, extra: &[String]) -> String {
        self.branch.set(self.branch.get() + 1);
        let local = self.socket.local_addr().expect("addr");
        let mut s = format!(
            "{method} sip:127.0.0.1:{port} SIP/2.0\r\n\
             Via: SIP/2.0/UDP {local};branch=z9hG4bK{user}{b}x{n}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:{user}@127.0.0.1>;tag=t{user}\r\n\
             To: <sip:{user}@127.0.0.1>\r\nCall-ID: {user}-{ip}-{n}@test\r\n\
             CSeq: {cseq} {method}\r\n",
            port = self.port,
            b = self.branch.get(),
            n = std::process::id(),
            ip = local.ip(),
        );
        for line in extra {
            s.push_str(line);
            s.push_str("\r\n");
        }
        s.push_str("Content-Length: 0\r\n\r\n");
        s
    }

    fn exchange_once(&self, text: &str, wait: Duration) -> Option<Message> {
        self.socket.set_read_timeout(Some(wait)).expect("timeout");
        self.socket.send(text.as_bytes()).expect("send");
        let mut buf = vec![0u8; 65_536];
        loop {
            let n = self.socket.recv(&mut buf).ok()?;
            let m = Message::parse(bytes::Bytes::copy_from_slice(&buf[..n])).expect("parses");
            // Skip provisional responses.
            if code(&m) >= 200 {
                return Some(m);
            }
        }
    }

    fn exchange(&self, text: &str) -> Message {
        (0..4)
            .find_map(|_| self.exchange_once(text, Duration::from_secs(2)))
            .expect("an answer from the registrar")
    }

    /// The first challenge to a REGISTER for `user` without credentials.
    fn challenge(&self, user: &str, cseq: u32) -> String {
        let first = self.exchange(&self.request("REGISTER", user, cseq, &[]));
        assert_eq!(code(&first), 401, "challenged");
        first
            .fields_named(HeaderName::WwwAuthenticate)
            .next()
            .map(|f| f.value_str().expect("utf-8").to_string())
            .expect("a challenge")
    }

    /// The Authorization line with which `client` answers `challenge`.
    fn authorization(&self, client: &mut DigestClient, challenge: &str) -> String {
        let challenge = WwwAuthenticate::parse(challenge)
            .expect("challenge parses")
            .0;
        let answer = client
            .answer(
                &challenge,
                "REGISTER",
                &format!("sip:127.0.0.1:{}", self.port),
            )
            .expect("answerable");
        format!("Authorization: {answer}")
    }

    /// REGISTER → 401 → answered by `client` (with `pick` choosing among
    /// the challenges) → the final response and the answered request.
    fn register(
        &self,
        client: &mut DigestClient,
        user: &str,
        cseq: u32,
        extra: &[String],
        pick: impl Fn(&[Credentials<'_>]) -> Credentials<'static>,
    ) -> (Message, String) {
        let first = self.exchange(&self.request("REGISTER", user, cseq, extra));
        assert_eq!(code(&first), 401, "challenged first");
        let values: Vec<String> = first
            .fields_named(HeaderName::WwwAuthenticate)
            .map(|f| f.value_str().expect("utf-8").to_string())
            .collect();
        let leaked: Vec<&'static str> = values.into_iter().map(|v| &*v.leak()).collect();
        let parsed: Vec<Credentials<'static>> = leaked
            .iter()
            .map(|v| WwwAuthenticate::parse(v).expect("challenge parses").0)
            .collect();
        let challenge = pick(&parsed).to_string();
        let mut lines = extra.to_vec();
        lines.push(self.authorization(client, &challenge));
        let request = self.request("REGISTER", user, cseq + 1, &lines);
        (self.exchange(&request), request)
    }
}

fn strongest(c: &[Credentials<'_>]) -> Credentials<'static> {
    let (_, best) = DigestClient::choose(c.iter().copied()).expect("a usable challenge");
    // The test keeps the challenge text alive for the whole run.
    let text: &'static str = best.to_string().leak();
    WwwAuthenticate::parse(text).expect("parses").0
}

fn algorithm(name: &'static str) -> impl Fn(&[Credentials<'_>]) -> Credentials<'static> {
    move |c| {
        let found = c
            .iter()
            .find(|c| c.param("algorithm").as_deref() == Some(name))
            .expect("algorithm offered");
        let text: &'static str = found.to_string().leak();
        WwwAuthenticate::parse(text).expect("parses").0
    }
}

fn contact(port: u16, expires: u32) -> Vec<String> {
    vec![format!(
        "Contact: <sip:phone@127.0.0.1:{port}>;expires={expires}"
    )]
}

/// Where the registrar under test keeps accounts and bindings.
enum Backend {
    /// Both in an SQLite file.
    Sqlite,
    /// Both in the PostgreSQL of `RVOIP_TEST_POSTGRES`.
    Postgres,
    /// Accounts in SQLite, bindings in the Redis of `RVOIP_TEST_REDIS`.
    Redis,
}

#[test]
fn digest_suite_on_sqlite() {
    digest_registration_wrong_passwords_replays_and_a_restart(Backend::Sqlite);
}

#[test]
fn digest_suite_on_postgres() {
    digest_registration_wrong_passwords_replays_and_a_restart(Backend::Postgres);
}

#[test]
fn digest_suite_on_redis() {
    digest_registration_wrong_passwords_replays_and_a_restart(Backend::Redis);
}

fn digest_registration_wrong_passwords_replays_and_a_restart(backend: Backend) {
    let auth = "[auth]\nalgorithms = [\"SHA-256\", \"MD5\"]\ncredential_refresh_ms = 100\n";
    let env = |name: &str| {
        std::env::var(name)
            .unwrap_or_else(|_| panic!("{name} must be set (.ci/run starts the server)"))
    };
    let (dir, mut reg) = match backend {
        Backend::Sqlite => {
            let dir = temp_dir("sqlite");
            let reg = Registrar::configure(&dir, auth);
            (dir, reg)
        }
        Backend::Postgres => {
            let dir = temp_dir("postgres");
            let reg = Registrar::configure_with(&dir, &env("RVOIP_TEST_POSTGRES"), auth);
            // Requests spread over shards here (one, the default, elsewhere).
            reg.sip_option("shards = 2");
            // Accounts of an earlier run on the same database go first.
            for aor in ["alice@127.0.0.1", "bob@127.0.0.1", "dan@127.0.0.1"] {
                reg.user(&["delete", aor]);
            }
            (dir, reg)
        }
        Backend::Redis => {
            let dir = temp_dir("redis");
            let extra = format!(
                "{auth}[location]\nstore = \"{}\"\n",
                env("RVOIP_TEST_REDIS")
            );
            let reg = Registrar::configure(&dir, &extra);
            reg.sip_option("shards = 0");
            (dir, reg)
        }
    };
    reg.user_add("alice@127.0.0.1", "blue-lagoon-41");
    reg.user_add("bob@127.0.0.1", "red-harbour-22");
    // The user command refuses a duplicate with a clear message.
    let dup = reg.user(&["add", "alice@127.0.0.1", "--password", "another-secret"]);
    assert_eq!(dup.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&dup.stderr).contains("already exists"));
    reg.start();
    let phone = Phone::new("127.0.0.1", reg.port);

    // A shared store may hold bindings of an earlier run: removed with *.
    let mut alice = DigestClient::new("alice", "blue-lagoon-41", 1);
    let mut bob = DigestClient::new("bob", "red-harbour-22", 2);
    let all = ["Contact: *".to_string(), "Expires: 0".to_string()];
    for (client, user) in [(&mut alice, "alice"), (&mut bob, "bob")] {
        let (r, _) = phone.register(client, user, 90_000, &all, strongest);
        assert_eq!(code(&r), 200, "{r:?}");
        assert!(contacts(&r).is_empty());
    }

    // SHA-256 (the strongest offered) for alice.
    let (ok, answered) = phone.register(&mut alice, "alice", 1, &contact(5071, 600), strongest);
    assert_eq!(code(&ok), 200, "{ok:?}");
    assert!(answered.contains("algorithm=SHA-256"), "{answered}");
    assert_eq!(contacts(&ok), ["<sip:phone@127.0.0.1:5071>;expires=600"]);

    // MD5 for bob.
    let (ok, answered) = phone.register(&mut bob, "bob", 1, &contact(5072, 600), algorithm("MD5"));
    assert_eq!(code(&ok), 200);
    assert!(answered.contains("algorithm=MD5"), "{answered}");

    // The same credentials again (a new transaction): a replay, refused.
    let replay = answered.replace("z9hG4bKbob", "z9hG4bKreplay");
    let r = phone.exchange(&replay);
    assert_eq!(code(&r), 401);

    // A wrong password gets a new challenge and stores nothing; an
    // unknown user gets exactly the same.
    let mut guess = DigestClient::new("carol", "not-her-password", 3);
    phone.exchange(&phone.request("REGISTER", "carol", 1, &[]));
    let (r, _) = phone.register(&mut guess, "carol", 5, &contact(5073, 600), strongest);
    assert_eq!(code(&r), 401);
    let mut wrong = DigestClient::new("alice", "blue-lagoon-42", 4);
    let (r, _) = phone.register(&mut wrong, "alice", 10, &contact(5074, 600), strongest);
    assert_eq!(code(&r), 401);

    // Authenticated as bob, registering alice: forbidden.
    let mut bob_as_alice = DigestClient::new("bob", "red-harbour-22", 5);
    let ch = phone.challenge("alice", 20);
    let auth = phone.authorization(&mut bob_as_alice, &ch);
    let r = phone.exchange(&phone.request("REGISTER", "alice", 21, &[auth]));
    assert_eq!(code(&r), 403);

    // A query (no Contact) lists alice's one binding: the wrong password
    // added nothing.
    let (q, _) = phone.register(&mut alice, "alice", 30, &[], strongest);
    assert_eq!(code(&q), 200);
    assert_eq!(contacts(&q).len(), 1, "{:?}", contacts(&q));

    // Accounts changed while the registrar runs (its credentials are held
    // in memory): a new password, a new account, a disabled one, each in
    // effect after the next refresh.
    let out = reg.user(&["passwd", "bob@127.0.0.1", "--password", "green-valley-35"]);
    assert!(out.status.success());
    reg.user_add("dan@127.0.0.1", "brown-canyon-17");
    let mut bob_new = DigestClient::new("bob", "green-valley-35", 6);
    let mut dan = DigestClient::new("dan", "brown-canyon-17", 7);
    // Refreshed every 100 ms: the loops below rarely go round, and never
    // near the ban limit of ten failures from one address.
    std::thread::sleep(Duration::from_millis(300));
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut cseq = 100;
    let mut answers = |client: &mut DigestClient, user: &str| {
        cseq += 10;
        code(&phone.register(client, user, cseq, &[], strongest).0)
    };
    while answers(&mut bob_new, "bob") != 200 || answers(&mut dan, "dan") != 200 {
        assert!(Instant::now() < deadline, "changes not seen");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(answers(&mut bob, "bob"), 401, "the old password");
    assert!(reg.user(&["disable", "dan@127.0.0.1"]).status.success());
    std::thread::sleep(Duration::from_millis(300));
    while answers(&mut dan, "dan") != 401 {
        assert!(Instant::now() < deadline, "disabled account still accepted");
        std::thread::sleep(Duration::from_millis(200));
    }

    // Bindings survive a restart.
    let (_, err) = reg.stop();
    // Two wrong passwords, bob's old one, and whatever the polling above
    // sent before each change was seen.
    let failures: u32 = err
        .split("auth_failures ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.trim_end_matches(',').parse().ok())
        .expect("auth_failures in the summary");
    assert!(failures >= 3, "{err}");
    reg.start();
    let (q, _) = phone.register(&mut alice, "alice", 40, &[], strongest);
    assert_eq!(contacts(&q).len(), 1);
    assert!(contacts(&q)[0].starts_with("<sip:phone@127.0.0.1:5071>;expires="));
    reg.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn stale_nonces_expiry_and_bans() {
    let dir = temp_dir("stale");
    let metrics_port = free_port();
    let mut reg = Registrar::configure(
        &dir,
        &format!(
            "[registrar]\nmin_expires = 1\n[auth]\nnonce_ttl = 1\nmax_failures_per_source = 3\n\
             [location]\nwrite_interval_ms = 0\n[log]\nformat = \"json\"\n\
             [metrics]\nlisten = \"127.0.0.1:{metrics_port}\"\n"
        ),
    );
    reg.user_add("dave@127.0.0.1", "green-valley-9");
    reg.start();
    let phone = Phone::new("127.0.0.1", reg.port);
    let mut dave = DigestClient::new("dave", "green-valley-9", 9);

    // Challenges go out statelessly (RFC 3261 §8.2.7): a retransmitted
    // REGISTER is challenged again, with a fresh nonce (not the first 401
    // resent from transaction state) and the same To tag.
    let unauthenticated = phone.request("REGISTER", "dave", 1, &[]);
    let first = phone.exchange(&unauthenticated);
    let again = phone.exchange(&unauthenticated);
    assert_eq!((code(&first), code(&again)), (401, 401));
    assert!(first.tag(HeaderName::To).is_some());
    assert_eq!(first.tag(HeaderName::To), again.tag(HeaderName::To));
    let challenge = |m: &Message| {
        m.raw_header(HeaderName::WwwAuthenticate)
            .map(<[u8]>::to_vec)
    };
    assert_ne!(challenge(&first), challenge(&again), "challenged again");

    // An answer to an expired nonce: 401 with stale=true.
    let ch = phone.challenge("dave", 1);
    std::thread::sleep(Duration::from_millis(2100));
    let mut lines = contact(5075, 2);
    lines.push(phone.authorization(&mut dave, &ch));
    let r = phone.exchange(&phone.request("REGISTER", "dave", 2, &lines));
    assert_eq!(code(&r), 401);
    let stale = r
        .fields_named(HeaderName::WwwAuthenticate)
        .all(|f| f.value_str().expect("utf-8").contains("stale=true"));
    assert!(stale, "{r:?}");

    // A fresh answer succeeds; the 2-second binding then expires on time.
    let (ok, answered) = phone.register(&mut dave, "dave", 3, &contact(5075, 2), strongest);
    assert_eq!(code(&ok), 200);
    assert_eq!(contacts(&ok), ["<sip:phone@127.0.0.1:5075>;expires=2"]);
    // The 200 went out statelessly too: its request retransmitted is
    // processed again, its nonce-count a replay. A fresh challenge (the
    // same To tag), and not a failed attempt (the metrics below).
    let again = phone.exchange(&answered);
    assert_eq!(code(&again), 401);
    assert_eq!(again.tag(HeaderName::To), ok.tag(HeaderName::To));
    std::thread::sleep(Duration::from_millis(3500));
    let (q, _) = phone.register(&mut dave, "dave", 10, &[], strongest);
    assert_eq!(code(&q), 200);
    assert!(contacts(&q).is_empty(), "{:?}", contacts(&q));

    // Password guessing from 127.0.0.1: banned after 3 failures, even with
    // the right password; 127.0.0.2 still registers.
    for i in 0..4 {
        let mut guess = DigestClient::new("dave", format!("guess-{i}-xyz"), i);
        let (r, _) = phone.register(&mut guess, "dave", 100 + 10 * i as u32, &[], strongest);
        assert_eq!(code(&r), 401);
    }
    // The refusal is stateless too: its retransmission is refused again.
    let refused = phone.request("REGISTER", "dave", 200, &[]);
    let r = phone.exchange(&refused);
    assert_eq!(code(&r), 403, "banned");
    let again = phone.exchange(&refused);
    assert_eq!(code(&again), 403);
    assert_eq!(r.tag(HeaderName::To), again.tag(HeaderName::To));
    let other = Phone::new("127.0.0.2", reg.port);
    let (ok, _) = other.register(&mut dave, "dave", 1, &contact(5076, 60), strongest);
    assert_eq!(code(&ok), 200);
    // The Prometheus endpoint counts what happened: four wrong passwords
    // (an answer to a stale nonce is not a failure), the ban, the refused
    // request and its retransmission, the expired binding, and 127.0.0.2's
    // binding.
    let text = http_get(metrics_port, "/metrics");
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    for line in [
        "rvoip_registrar_bans_total 1",
        "rvoip_registrar_auth_failures_total 4",
        "rvoip_registrar_refused_banned_total 2",
        "rvoip_registrar_expired_total 1",
        "rvoip_registrar_bindings 1",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in {text}");
    }
    assert!(
        text.contains("# HELP rvoip_registrar_bans_total "),
        "{text}"
    );
    // Logs are JSON, one object per line; the ban is among them.
    let (_, err) = reg.stop();
    let events: Vec<serde_json::Value> = err
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let message = |e: &serde_json::Value| e["fields"]["message"].as_str().map(str::to_owned);
    let ban = events
        .iter()
        .find(|e| message(e).is_some_and(|m| m.starts_with("banned source 127.0.0.1")))
        .unwrap_or_else(|| panic!("no ban in {err}"));
    assert_eq!(ban["level"], "WARN");
    let last = events.last().and_then(message).unwrap_or_default();
    assert!(
        last.starts_with("stopped;") && last.contains("bans 1"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// SIP Bearer (RFC 8898): tokens from a Keycloak-style realm on loopback
/// (HTTPS, keys generated here) register the account their user claim
/// names; expired, wrong-audience, someone else's and disabled accounts'
/// tokens do not.
#[test]
fn a_retransmitted_register_is_answered_again_and_changes_nothing() {
    let dir = temp_dir("retransmit");
    let mut reg = Registrar::configure(&dir, "[auth]\nenabled = false\n");
    reg.start();
    let phone = Phone::new("127.0.0.1", reg.port);
    let request = phone.request("REGISTER", "erin", 7, &contact(5077, 600));
    let first = phone.exchange(&request);
    assert_eq!(code(&first), 200, "{first:?}");
    assert_eq!(contacts(&first), ["<sip:phone@127.0.0.1:5077>;expires=600"]);
    // No transaction state holds the first 200: the same request, a second
    // later, is processed again. The same Call-ID and CSeq are the request
    // that wrote the binding (RFC 3261 §8.1.1.5), so it gets the binding
    // as it is (not renewed) and the same To tag.
    std::thread::sleep(Duration::from_millis(1100));
    let again = phone.exchange(&request);
    assert_eq!(code(&again), 200, "{again:?}");
    assert_eq!(again.tag(HeaderName::To), first.tag(HeaderName::To));
    let listed = contacts(&again);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(
        listed[0].starts_with("<sip:phone@127.0.0.1:5077>;expires=59"),
        "{listed:?}"
    );
    // An older CSeq of the same Call-ID is out of order (step 7).
    let older = phone.request("REGISTER", "erin", 6, &contact(5077, 600));
    assert_eq!(code(&phone.exchange(&older)), 400);
    // A newer one renews it.
    let newer = phone.request("REGISTER", "erin", 8, &contact(5077, 600));
    let renewed = phone.exchange(&newer);
    assert_eq!(
        contacts(&renewed),
        ["<sip:phone@127.0.0.1:5077>;expires=600"]
    );

    // Over TCP the stateless answer goes back on the request's connection.
    use std::io::{Read, Write};
    let mut tcp = std::net::TcpStream::connect(("127.0.0.1", reg.port)).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let local = tcp.local_addr().expect("addr");
    let request = format!(
        "REGISTER sip:127.0.0.1:{port} SIP/2.0\r\n\
         Via: SIP/2.0/TCP {local};branch=z9hG4bKtcp1\r\nMax-Forwards: 70\r\n\
         From: <sip:frank@127.0.0.1>;tag=tf\r\nTo: <sip:frank@127.0.0.1>\r\n\
         Call-ID: frank-tcp@test\r\nCSeq: 1 REGISTER\r\n\
         Contact: <sip:phone@{local};transport=tcp>;expires=600\r\nContent-Length: 0\r\n\r\n",
        port = reg.port
    );
    tcp.write_all(request.as_bytes()).expect("send");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tcp.read(&mut buf).expect("read");
        assert!(n > 0, "the registrar closed the connection");
        got.extend_from_slice(&buf[..n]);
    }
    let r = Message::parse(bytes::Bytes::from(got)).expect("parses");
    assert_eq!(code(&r), 200, "{r:?}");
    assert_eq!(
        contacts(&r),
        [format!("<sip:phone@{local};transport=tcp>;expires=600")]
    );
    reg.stop();
}

#[test]
fn bearer_tokens_from_a_keycloak_realm() {
    use sip_test::idp::{Algorithm, REALM, TestIdp};
    let dir = temp_dir("bearer");
    let idp = TestIdp::start(&dir);
    idp.add_key("rsa", Algorithm::RS256);
    idp.add_key("ed", Algorithm::EdDSA);
    let mut reg = Registrar::configure(
        &dir,
        &format!(
            "[auth.bearer]\nenabled = true\npreset = \"keycloak\"\nkeycloak_url = \"{}\"\n\
             keycloak_realm = \"{REALM}\"\naudiences = [\"rvoip\"]\nca = \"{}\"\n",
            idp.url,
            idp.ca.display()
        ),
    );
    reg.user_add("erin@127.0.0.1", "amber-harbour-3");
    reg.user_add("frank@127.0.0.1", "slate-meadow-8");
    assert!(reg.user(&["disable", "frank@127.0.0.1"]).status.success());
    reg.start();
    let phone = Phone::new("127.0.0.1", reg.port);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let token = |kid: &str, user: &str, aud: &str, exp: i64| {
        let claims = serde_json::json!({
            "iss": idp.issuer(), "aud": aud, "sub": format!("id-{user}"),
            "preferred_username": user, "exp": now + exp,
        });
        format!("Authorization: Bearer {}", idp.sign(kid, &claims))
    };
    let register = |user: &str, cseq: u32, auth: String| {
        let mut lines = contact(5090, 600);
        lines.push(auth);
        phone.exchange(&phone.request("REGISTER", user, cseq, &lines))
    };

    // The challenge offers digest and Bearer, naming the issuer.
    let first = phone.exchange(&phone.request("REGISTER", "erin", 1, &[]));
    assert_eq!(code(&first), 401);
    let offered: Vec<String> = first
        .fields_named(HeaderName::WwwAuthenticate)
        .map(|f| f.value_str().expect("utf-8").to_string())
        .collect();
    let bearer = format!(
        "Bearer realm=\"127.0.0.1\", authz_server=\"{}\"",
        idp.issuer()
    );
    assert!(offered.contains(&bearer), "{offered:?}");
    assert!(
        offered.iter().any(|c| c.starts_with("Digest ")),
        "{offered:?}"
    );

    // RS256 and EdDSA tokens for erin register and refresh erin.
    let ok = register("erin", 2, token("rsa", "erin", "rvoip", 300));
    assert_eq!(code(&ok), 200);
    assert_eq!(contacts(&ok), ["<sip:phone@127.0.0.1:5090>;expires=600"]);
    let ok = register("erin", 3, token("ed", "erin@127.0.0.1", "rvoip", 300));
    assert_eq!(code(&ok), 200);

    // Refused: expired, another audience (401 with the reason), erin's
    // token for frank's address, frank's own (disabled) account (403).
    for (cseq, auth) in [
        (4, token("rsa", "erin", "rvoip", -300)),
        (5, token("rsa", "erin", "other-app", 300)),
    ] {
        let r = register("erin", cseq, auth);
        assert_eq!(code(&r), 401);
        let refused = r
            .fields_named(HeaderName::WwwAuthenticate)
            .filter_map(|f| f.value_str().ok().map(str::to_owned))
            .find(|v| v.starts_with("Bearer "))
            .expect("a Bearer challenge");
        assert!(refused.contains("error=\"invalid_token\""), "{refused}");
    }
    let r = register("frank", 6, token("rsa", "erin", "rvoip", 300));
    assert_eq!(code(&r), 403);
    let r = register("frank", 7, token("rsa", "frank", "rvoip", 300));
    assert_eq!(code(&r), 403);

    // Digest still works beside it, and sees erin's one binding.
    let mut erin = DigestClient::new("erin", "amber-harbour-3", 3);
    let (q, _) = phone.register(&mut erin, "erin", 10, &[], strongest);
    assert_eq!(code(&q), 200);
    assert_eq!(contacts(&q).len(), 1, "{:?}", contacts(&q));
    let (_, err) = reg.stop();
    assert!(err.contains("auth_failures 2"), "{err}");
    assert!(err.contains("2 token signing keys fetched"), "{err}");
    assert_eq!(idp.jwks_fetches(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

/// SIPp's REGISTER scenarios from `sipp/` with `[authentication]`: each of
/// `users` users registers, refreshes and unregisters, then registers two
/// contacts and removes both with `Contact: *`; every "call" must succeed.
/// The accounts come from `rvoip user import`.
#[test]
fn sipp_register_scenarios_with_digest() {
    let users = 50;
    let dir = temp_dir("sipp");
    // SIPp answers only MD5 challenges, and only the first one.
    // Without the cache: every REGISTER reads and writes the database.
    let mut reg = Registrar::configure(
        &dir,
        "[auth]\nalgorithms = [\"MD5\"]\n[location]\ncache = false\n",
    );
    let list = dir.join("import.txt");
    let mut import = String::from("# user@domain;password\n");
    let mut inf = String::from("SEQUENTIAL\n");
    for i in 0..users {
        import.push_str(&format!("sipp{i}@127.0.0.1;pass-{i}-word\n"));
        inf.push_str(&format!(
            "sipp{i};[authentication username=sipp{i} password=pass-{i}-word]\n"
        ));
    }
    // A bad line is refused with its number, and nothing is imported.
    std::fs::write(
        &list,
        "# users\nbob@127.0.0.1;blue-lagoon-7\nnobody-at-all;secret-99\n",
    )
    .expect("write import");
    let out = reg.user(&["import", list.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("import.txt line 3: expected user@domain"),
        "{err}"
    );
    std::fs::write(&list, import).expect("write import");
    std::fs::write(dir.join("users.csv"), inf).expect("write injection");
    let out = reg.user(&["import", list.to_str().expect("utf-8"), "--sip-only"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("imported {users} users\n")
    );
    reg.start();
    let sipp = which("sipp").unwrap_or_else(|| {
        panic!("sipp is not installed: install Debian's sip-tester (.ci/run does)")
    });
    let scenarios = concat!(env!("CARGO_MANIFEST_DIR"), "/../../sipp");
    for (scenario, transport) in [
        ("register-lifecycle", "u1"),
        ("register-lifecycle", "t1"),
        ("register-wildcard", "u1"),
        ("register-auth", "u1"),
    ] {
        let stat = dir.join(format!("{scenario}-{transport}.csv"));
        let status = Command::new(&sipp)
            .arg("-sf")
            .arg(format!("{scenarios}/{scenario}.xml"))
            .arg("-inf")
            .arg(dir.join("users.csv"))
            .arg(format!("127.0.0.1:{}", reg.port))
            .args([
                "-i",
                "127.0.0.1",
                "-p",
                &free_port().to_string(),
                "-t",
                transport,
            ])
            .args(["-m", &users.to_string(), "-r", "100", "-nostdin"])
            .args(["-timeout", "60s", "-timeout_error", "-trace_stat", "-stf"])
            .arg(&stat)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run sipp");
        let csv = std::fs::read_to_string(&stat).expect("sipp statistics");
        let col = |name: &str| sipp_counter(&csv, name);
        assert_eq!(
            col("SuccessfulCall(C)"),
            Some(users),
            "{scenario} over {transport}"
        );
        assert_eq!(col("FailedCall(C)"), Some(0), "{scenario} over {transport}");
        assert!(
            status.success(),
            "{scenario} over {transport}: sipp exit status {status}"
        );
    }
    let (_, err) = reg.stop();
    // The lifecycle (twice) and the wildcard each ended with every binding
    // removed (their checks see only the first Contact, so they run on
    // empty AORs); register-auth then left one binding per user.
    assert!(err.contains("auth_failures 0"), "{err}");
    let phone = Phone::new("127.0.0.1", reg.port);
    reg.start();
    let mut client = DigestClient::new("sipp7", "pass-7-word", 7);
    let (q, _) = phone.register(&mut client, "sipp7", 1, &[], strongest);
    assert_eq!(code(&q), 200);
    assert_eq!(contacts(&q).len(), 1, "{:?}", contacts(&q));
    reg.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn configuration_errors_name_the_key_and_line() {
    let dir = temp_dir("badcfg");
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "[sip]\nlisten = [\"udp:127.0.0.1:5060\"]\n[registrar]\nmin_expires = \"soon\"\n",
    )
    .expect("write");
    let out = rvoip(&["registrar", "--config", bad.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml line 4: registrar.min_expires: "),
        "{err}"
    );
    std::fs::write(&bad, "[auth]\nalgorithms = [\"SHA-1\"]\n").expect("write");
    let out = rvoip(&["registrar", "--config", bad.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("auth.algorithms: unknown algorithm \"SHA-1\""),
        "{err}"
    );
    std::fs::write(&bad, "[sip]\nshards = 100000\n").expect("write");
    let out = rvoip(&["registrar", "--config", bad.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("sip.shards: 100000 is more than 256"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
