//! The registrar's RFC 3261 §10.3 behaviour, driven in virtual time over
//! the in-memory store, and the SQL store on SQLite and PostgreSQL.

use std::time::{Duration, SystemTime};

use registrar_core::{
    Binding, CachedStore, Change, LocationStore, MemoryStore, RedisStore, Registrar,
    RegistrarConfig, RegistrationEvent, SqlStore,
};
use sip_core::Message;

fn t(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs)
}

/// A REGISTER for alice@example.com with `extra` header lines.
fn register(call_id: &str, cseq: u32, extra: &[&str]) -> Message {
    register_to(
        "sip:example.com",
        "<sip:alice@example.com>",
        call_id,
        cseq,
        extra,
    )
}

fn register_to(ruri: &str, to: &str, call_id: &str, cseq: u32, extra: &[&str]) -> Message {
    let mut s = format!(
        "REGISTER {ruri} SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK{call_id}{cseq}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=f\r\nTo: {to}\r\n\
         Call-ID: {call_id}\r\nCSeq: {cseq} REGISTER\r\n"
    );
    for line in extra {
        s.push_str(line);
        s.push_str("\r\n");
    }
    s.push_str("Content-Length: 0\r\n\r\n");
    Message::parse(bytes::Bytes::from(s)).expect("test REGISTER parses")
}

struct Rig {
    registrar: Registrar,
    store: MemoryStore,
}

impl Rig {
    fn new(config: RegistrarConfig) -> Rig {
        Rig {
            registrar: Registrar::new(config, 1),
            store: MemoryStore::new(),
        }
    }

    /// Runs one REGISTER through check → process → store → commit.
    async fn send(&mut self, now: SystemTime, request: &Message) -> Message {
        let tag = self.registrar.tag();
        let aor = match self.registrar.check(request, &tag) {
            Ok(aor) => aor,
            Err(response) => return response.expect("a response"),
        };
        let current = self.store.bindings(&aor.key()).await.expect("read");
        let d = self
            .registrar
            .process(now, request, &aor, &current, "udp:192.0.2.1:5060", &tag);
        self.store.apply(&d.changes).await.expect("write");
        self.registrar.commit(d.changes);
        d.response.expect("a response")
    }

    /// [`Rig::send`] of a REGISTER for alice (see [`register`]).
    async fn register(
        &mut self,
        now: SystemTime,
        call_id: &str,
        cseq: u32,
        extra: &[&str],
    ) -> Message {
        self.send(now, &register(call_id, cseq, extra)).await
    }

    async fn expire(&mut self, now: SystemTime) {
        for aor in self.registrar.due(now) {
            let current = self.store.bindings(&aor).await.expect("read");
            let gone = self.registrar.expire(now, &current);
            self.store.apply(&gone).await.expect("write");
            self.registrar.commit(gone);
        }
    }

    fn events(&mut self) -> Vec<RegistrationEvent> {
        std::iter::from_fn(|| self.registrar.poll_event()).collect()
    }
}

fn code(m: &Message) -> u16 {
    m.status().expect("a response").as_u16()
}

fn contacts(m: &Message) -> Vec<String> {
    m.fields_named(sip_core::header::HeaderName::Contact)
        .map(|f| f.value_str().expect("utf-8").to_string())
        .collect()
}

fn header(m: &Message, name: &str) -> Option<String> {
    m.fields()
        .find(|f| f.raw_name.eq_ignore_ascii_case(name))
        .map(|f| f.value_str().expect("utf-8").to_string())
}

#[tokio::test]
async fn register_refresh_list_unregister_and_expire() {
    let mut rig = Rig::new(RegistrarConfig::default());
    let r = rig
        .register(
            t(0),
            "c1",
            1,
            &["Contact: <sip:alice@192.0.2.1:5060>;q=0.7", "Expires: 600"],
        )
        .await;
    assert_eq!(code(&r), 200);
    assert_eq!(
        contacts(&r),
        ["<sip:alice@192.0.2.1:5060>;expires=600;q=0.7"]
    );
    assert!(header(&r, "To").expect("To").contains(";tag="));
    assert!(
        matches!(&rig.events()[..], [RegistrationEvent::Registered(b)] if b.aor == "alice@example.com")
    );

    // A second phone, then a refresh of the first (a URI equal by §19.1.4).
    let r = rig
        .register(
            t(10),
            "c2",
            1,
            &["Contact: <sip:alice@192.0.2.2>;expires=3600"],
        )
        .await;
    assert_eq!(contacts(&r).len(), 2);
    let r = rig
        .register(
            t(20),
            "c1",
            2,
            &["Contact: <sip:%61lice@192.0.2.1:5060>", "Expires: 300"],
        )
        .await;
    assert_eq!(code(&r), 200);
    assert_eq!(
        contacts(&r),
        [
            "<sip:alice@192.0.2.2>;expires=3590",
            "<sip:%61lice@192.0.2.1:5060>;expires=300"
        ]
    );
    let events = rig.events();
    assert!(
        matches!(events[1], RegistrationEvent::Refreshed(_)),
        "{events:?}"
    );

    // No Contact: a query.
    let r = rig.register(t(30), "c3", 1, &[]).await;
    assert_eq!(contacts(&r).len(), 2);
    assert!(rig.events().is_empty());

    // expires=0 removes one; expiry removes the other on time.
    let r = rig
        .register(
            t(40),
            "c2",
            2,
            &["Contact: <sip:alice@192.0.2.2>;expires=0"],
        )
        .await;
    assert_eq!(contacts(&r), ["<sip:%61lice@192.0.2.1:5060>;expires=280"]);
    assert!(matches!(&rig.events()[..], [RegistrationEvent::Removed(_)]));
    assert_eq!(rig.registrar.poll_timeout(), Some(t(320)));
    rig.expire(t(319)).await;
    assert!(rig.events().is_empty());
    rig.expire(t(320)).await;
    assert!(
        matches!(&rig.events()[..], [RegistrationEvent::Expired(b)] if b.contact == "sip:%61lice@192.0.2.1:5060")
    );
    assert!(
        rig.store
            .bindings("alice@example.com")
            .await
            .expect("read")
            .is_empty()
    );
    rig.expire(t(5000)).await;
    assert!(rig.events().is_empty());
    assert_eq!(rig.registrar.timer_count(), 0);
}

#[tokio::test]
async fn expiry_limits_wildcard_and_ordering() {
    let config = RegistrarConfig {
        min_expires: 60,
        max_expires: 3600,
        max_bindings: 2,
        ..RegistrarConfig::default()
    };
    let mut rig = Rig::new(config);
    let r = rig
        .register(t(0), "c1", 1, &["Contact: <sip:a@192.0.2.1>;expires=30"])
        .await;
    assert_eq!(code(&r), 423);
    assert_eq!(header(&r, "Min-Expires").as_deref(), Some("60"));
    let r = rig
        .register(
            t(0),
            "c1",
            2,
            &["Contact: <sip:a@192.0.2.1>", "Expires: 99999"],
        )
        .await;
    assert_eq!(contacts(&r), ["<sip:a@192.0.2.1>;expires=3600"]);
    // The same Call-ID with an old CSeq is out of order; another Call-ID is not.
    let r = rig
        .register(t(1), "c1", 1, &["Contact: <sip:a@192.0.2.1>"])
        .await;
    assert_eq!(code(&r), 400);
    // The same Call-ID and CSeq is the request that wrote the binding,
    // retransmitted: answered with the binding as it is (not renewed).
    let r = rig
        .register(
            t(1),
            "c1",
            2,
            &["Contact: <sip:a@192.0.2.1>", "Expires: 99999"],
        )
        .await;
    assert_eq!(code(&r), 200);
    assert_eq!(contacts(&r), ["<sip:a@192.0.2.1>;expires=3599"]);
    let r = rig
        .register(t(1), "c9", 1, &["Contact: <sip:b@192.0.2.1>"])
        .await;
    assert_eq!(code(&r), 200);
    // A third binding passes the limit.
    let r = rig
        .register(t(2), "c8", 1, &["Contact: <sip:c@192.0.2.1>"])
        .await;
    assert_eq!(code(&r), 403);
    // `*` needs Expires: 0 and no other contact.
    let r = rig.register(t(3), "c7", 1, &["Contact: *"]).await;
    assert_eq!(code(&r), 400);
    let r = rig
        .register(
            t(3),
            "c7",
            1,
            &["Contact: *", "Contact: <sip:d@192.0.2.1>", "Expires: 0"],
        )
        .await;
    assert_eq!(code(&r), 400);
    let r = rig
        .register(t(3), "c7", 1, &["Contact: *", "Expires: 0"])
        .await;
    assert_eq!(code(&r), 200);
    assert!(contacts(&r).is_empty());
    assert_eq!(
        rig.events()
            .iter()
            .filter(|e| matches!(e, RegistrationEvent::Removed(_)))
            .count(),
        2
    );
    // Malformed Expires and Contact.
    let r = rig
        .register(
            t(4),
            "c6",
            1,
            &["Contact: <sip:a@192.0.2.1>", "Expires: soon"],
        )
        .await;
    assert_eq!(code(&r), 400);
}

#[tokio::test]
async fn domain_require_and_aor_checks() {
    let mut rig = Rig::new(RegistrarConfig {
        domains: vec!["example.com".into()],
        ..RegistrarConfig::default()
    });
    let c = "Contact: <sip:a@192.0.2.1>";
    // Another domain in the Request-URI or To, a tel: AOR, no user part.
    for (ruri, to) in [
        ("sip:example.org", "<sip:alice@example.org>"),
        ("sip:example.com", "<sip:alice@example.org>"),
        ("sip:example.com", "<tel:+15551234>"),
        ("sip:example.com", "<sip:example.com>"),
    ] {
        let r = rig.send(t(0), &register_to(ruri, to, "c", 1, &[c])).await;
        assert_eq!(code(&r), 404, "{ruri} {to}");
    }
    let r = rig
        .register(t(0), "c", 1, &[c, "Require: path, foo, bar"])
        .await;
    assert_eq!(code(&r), 420);
    assert_eq!(header(&r, "Unsupported").as_deref(), Some("foo, bar"));
    // Escaped user parts name the same AOR.
    let r = rig
        .send(
            t(0),
            &register_to("sip:EXAMPLE.com", "<sip:%61lice@Example.COM>", "c", 1, &[c]),
        )
        .await;
    assert_eq!(code(&r), 200);
    assert_eq!(
        rig.store
            .bindings("alice@example.com")
            .await
            .expect("read")
            .len(),
        1
    );
}

#[tokio::test]
async fn path_and_outbound() {
    let mut rig = Rig::new(RegistrarConfig::default());
    let r = rig
        .register(t(0), "c1",
                1,
                &[
                    "Contact: <sip:alice@10.0.0.5:5060;transport=tcp>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\";reg-id=1",
                    "Path: <sip:edge.example.com;lr;ob>",
                    "Supported: path, outbound",
                ])
        .await;
    assert_eq!(code(&r), 200);
    assert_eq!(
        header(&r, "Path").as_deref(),
        Some("<sip:edge.example.com;lr;ob>")
    );
    assert_eq!(header(&r, "Require").as_deref(), Some("outbound"));
    let stored = rig.store.bindings("alice@example.com").await.expect("read");
    assert_eq!(stored[0].path, ["<sip:edge.example.com;lr;ob>"]);
    assert_eq!(stored[0].source.as_deref(), Some("udp:192.0.2.1:5060"));
    // The same instance and reg-id from a new address replaces the binding.
    let r = rig
        .register(t(5), "c2",
                1,
                &["Contact: <sip:alice@10.0.0.9:5070;transport=tcp>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\";reg-id=1"])
        .await;
    let listed = contacts(&r);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(
        listed[0]
            .starts_with("<sip:alice@10.0.0.9:5070;transport=tcp>;expires=3600;+sip.instance=")
    );
    // Without Supported: path the Path is stored but not echoed.
    assert_eq!(header(&r, "Path"), None);
}

/// RFC 5626 §6: outbound needs a first hop that supports it.
#[tokio::test]
async fn outbound_needs_an_outbound_first_hop() {
    let bob = "Contact: <sip:bob@10.0.0.7:5060;transport=tcp>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000000000001>\";reg-id=1";
    let bob2 = "Contact: <sip:bob@10.0.0.7:5062;transport=tcp>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000000000001>\";reg-id=2";
    let mut rig = Rig::new(RegistrarConfig::default());
    // An edge proxy without "ob" in its Path URI, and a UA asking for
    // outbound: 439.
    let r = rig
        .register(
            t(0),
            "o1",
            1,
            &[
                bob,
                "Path: <sip:edge.example.com;lr>",
                "Supported: path, outbound",
            ],
        )
        .await;
    assert_eq!(code(&r), 439);
    // Two flows in one REGISTER: 400.
    let r = rig
        .register(t(0), "o2", 1, &[bob, bob2, "Supported: outbound"])
        .await;
    assert_eq!(code(&r), 400);
    // A UA not asking for outbound behind that proxy: an ordinary binding,
    // keyed by its Contact, and no Require: outbound.
    let r = rig
        .register(t(0), "o3", 1, &[bob, "Path: <sip:edge.example.com;lr>"])
        .await;
    assert_eq!(code(&r), 200);
    assert_eq!(header(&r, "Require"), None);
    assert_eq!(
        contacts(&r),
        ["<sip:bob@10.0.0.7:5060;transport=tcp>;expires=3600"]
    );
    // Two Vias and no Path: we are not the first hop either.
    let mut two_vias = register("o4", 1, &[]);
    let text = String::from_utf8_lossy(&two_vias.to_bytes()).replace(
        "Max-Forwards",
        "Via: SIP/2.0/TCP 10.0.0.7:5060;branch=z9hG4bKua\r\nMax-Forwards",
    );
    let text = text.replace(
        "Content-Length: 0",
        &format!("{bob}\r\nSupported: outbound\r\nContent-Length: 0"),
    );
    two_vias = Message::parse(bytes::Bytes::from(text)).expect("parses");
    let r = rig.send(t(0), &two_vias).await;
    assert_eq!(code(&r), 439);
}

#[tokio::test]
async fn refreshes_keep_one_timer_per_aor_and_expiry_follows_the_last() {
    let mut rig = Rig::new(RegistrarConfig::default());
    let contact = "Contact: <sip:alice@192.0.2.1:5060>";
    // How many bindings a query at `at` lists.
    async fn query(rig: &mut Rig, at: u64) -> usize {
        contacts(&rig.send(t(at), &register("q", 1, &[])).await).len()
    }
    // A phone refreshing every second: one timer, not one per REGISTER.
    for i in 0..1000u32 {
        let r = rig
            .register(t(u64::from(i)), "c1", i + 1, &[contact, "Expires: 600"])
            .await;
        assert_eq!(code(&r), 200);
    }
    assert_eq!(rig.registrar.timer_count(), 1);
    // The first expiry (600) finds the binding refreshed and arms its
    // real one (999 + 600).
    rig.expire(t(600)).await;
    assert_eq!(query(&mut rig, 600).await, 1);
    assert_eq!(rig.registrar.timer_count(), 1);
    rig.expire(t(1598)).await;
    assert_eq!(query(&mut rig, 1598).await, 1);
    rig.expire(t(1599)).await;
    assert_eq!(query(&mut rig, 1599).await, 0);
    assert_eq!(rig.registrar.timer_count(), 0);

    // A refresh that shortens the expiry arms the earlier time.
    let r = rig
        .register(t(2000), "c2", 1, &[contact, "Expires: 600"])
        .await;
    assert_eq!(code(&r), 200);
    let r = rig
        .register(t(2010), "c2", 2, &[contact, "Expires: 100"])
        .await;
    assert_eq!(code(&r), 200);
    rig.expire(t(2109)).await;
    assert_eq!(query(&mut rig, 2109).await, 1);
    rig.expire(t(2110)).await;
    assert_eq!(query(&mut rig, 2110).await, 0);

    // An AOR whose store could not be read is due again when retried.
    rig.register(t(3000), "c3", 1, &[contact, "Expires: 60"])
        .await;
    assert_eq!(rig.registrar.due(t(3060)), ["alice@example.com"]);
    assert!(rig.registrar.due(t(3061)).is_empty());
    rig.registrar.retry("alice@example.com", t(3061));
    assert_eq!(rig.registrar.due(t(3061)), ["alice@example.com"]);
}

fn binding(aor: &str, key: &str, expires: SystemTime) -> Binding {
    Binding {
        aor: aor.into(),
        key: key.into(),
        contact: key.into(),
        expires,
        q: Some(500),
        call_id: "c".into(),
        cseq: 7,
        path: vec!["<sip:p1;lr>".into(), "<sip:p2;lr>".into()],
        instance: Some("<urn:uuid:1>".into()),
        reg_id: Some(2),
        source: Some("tcp:192.0.2.1:5060".into()),
        user_agent: None,
    }
}

/// The same writes and reads on any store.
async fn store_round_trip(store: &impl LocationStore) {
    let a = binding("alice@example.com", "sip:a@192.0.2.1", t(100));
    let b = binding("alice@example.com", "sip:b@192.0.2.1", t(200));
    let c = binding("bob@example.com", "sip:c@192.0.2.1", t(300));
    store
        .apply(&[
            Change::Add(a.clone()),
            Change::Add(b.clone()),
            Change::Add(c.clone()),
        ])
        .await
        .expect("add");
    let mut got = store.bindings("alice@example.com").await.expect("read");
    got.sort_by(|x, y| x.key.cmp(&y.key));
    assert_eq!(got, [a.clone(), b.clone()]);
    let mut b2 = b.clone();
    b2.cseq = 8;
    b2.expires = t(900);
    store
        .apply(&[Change::Refresh(b2.clone()), Change::Remove(a.clone())])
        .await
        .expect("update");
    assert_eq!(
        store.bindings("alice@example.com").await.expect("read"),
        [b2]
    );
    assert_eq!(store.all().await.expect("all").len(), 2);
    // A batch as a write-behind flush makes it: many AORs, more rows than
    // one statement takes, and a binding changed twice (the last counts).
    let many: Vec<Binding> = (0..151)
        .map(|i| binding(&format!("u{i}@example.com"), "sip:u@192.0.2.9", t(400)))
        .collect();
    let mut changes: Vec<Change> = many.iter().cloned().map(Change::Add).collect();
    let mut twice = many[5].clone();
    twice.cseq = 99;
    changes.push(Change::Refresh(twice.clone()));
    changes.push(Change::Remove(many[6].clone()));
    store.apply(&changes).await.expect("batch");
    assert_eq!(store.all().await.expect("all").len(), 2 + 150);
    assert_eq!(
        store.bindings("u5@example.com").await.expect("read"),
        [twice]
    );
    let gone: Vec<Change> = many[..100].iter().cloned().map(Change::Remove).collect();
    store.apply(&gone).await.expect("remove batch");
    assert_eq!(store.all().await.expect("all").len(), 2 + 51);
    let rest: Vec<Change> = many[100..].iter().cloned().map(Change::Expire).collect();
    store.apply(&rest).await.expect("expire batch");
    assert_eq!(store.all().await.expect("all").len(), 2);
}

#[tokio::test]
async fn sql_store_on_sqlite_survives_a_restart() {
    let dir = std::env::temp_dir().join(format!("rvoip-loc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("loc.db");
    let path = path.to_str().expect("utf-8");
    let db = infra_common::db::Database::open(path).await.expect("open");
    store_round_trip(&SqlStore::new(db).await.expect("store")).await;
    let db = infra_common::db::Database::open(path)
        .await
        .expect("reopen");
    let again = SqlStore::new(db).await.expect("store");
    assert_eq!(again.all().await.expect("all").len(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn memory_and_cached_stores() {
    store_round_trip(&MemoryStore::new()).await;
    // Write-through: the SQL store has what the cache has, and a cache
    // loaded again (a restart) starts from it.
    let db = infra_common::db::Database::open("sqlite::memory:")
        .await
        .expect("open");
    let cached = CachedStore::load(SqlStore::new(db).await.expect("store"))
        .await
        .expect("load");
    store_round_trip(&cached).await;
    assert_eq!(cached.backing().all().await.expect("all").len(), 2);
    let mut direct = cached
        .backing()
        .bindings("alice@example.com")
        .await
        .expect("read");
    direct.sort_by(|x, y| x.key.cmp(&y.key));
    assert_eq!(
        direct,
        cached.bindings("alice@example.com").await.expect("read")
    );
    let again = CachedStore::load(cached.backing().clone())
        .await
        .expect("reload");
    assert_eq!(again.all().await.expect("all").len(), 2);
}

/// A store whose writes fail while `down` is set.
#[derive(Default)]
struct Flaky {
    inner: MemoryStore,
    down: std::sync::atomic::AtomicBool,
}

impl LocationStore for Flaky {
    async fn bindings(&self, aor: &str) -> Result<Vec<Binding>, registrar_core::StoreError> {
        self.inner.bindings(aor).await
    }

    async fn apply(&self, changes: &[Change]) -> Result<(), registrar_core::StoreError> {
        if self.down.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(registrar_core::StoreError::new(
                "writing bindings",
                "the store is down",
            ));
        }
        self.inner.apply(changes).await
    }

    async fn all(&self) -> Result<Vec<Binding>, registrar_core::StoreError> {
        self.inner.all().await
    }
}

#[tokio::test]
async fn write_behind_keeps_what_a_failed_flush_did_not_write() {
    let cached = CachedStore::load(Flaky::default())
        .await
        .expect("load")
        .write_behind(true);
    let a = binding("alice@example.com", "sip:a@192.0.2.1", t(100));
    let b = binding("alice@example.com", "sip:b@192.0.2.1", t(200));
    cached
        .apply(&[Change::Add(a.clone()), Change::Add(b.clone())])
        .await
        .expect("apply");
    cached
        .backing()
        .down
        .store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(cached.flush().await.is_err());
    // While down, b is removed (handed over, as the registrar does): the
    // newer change replaces the kept one, and reads see it at once.
    cached
        .apply_owned(vec![Change::Remove(b.clone())])
        .await
        .expect("apply");
    assert_eq!(
        cached.bindings("alice@example.com").await.expect("read"),
        std::slice::from_ref(&a)
    );
    assert!(cached.flush().await.is_err());
    cached
        .backing()
        .down
        .store(false, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(cached.flush().await.expect("flush"), 2);
    assert_eq!(cached.backing().all().await.expect("all"), [a]);
    assert_eq!(cached.flush().await.expect("flush"), 0);
}

#[tokio::test]
async fn redis_store() {
    let url = std::env::var("RVOIP_TEST_REDIS")
        .expect("RVOIP_TEST_REDIS must name a Redis server (.ci/run starts one)");
    let prefix = format!("rvoip-test:{}:", std::process::id());
    let store = RedisStore::open(&url)
        .await
        .expect("connect to Redis")
        .with_prefix(&prefix);
    store_round_trip(&store).await;
    // Another connection (a restart, or a second registrar) sees them, and
    // a cache loads them.
    let again = RedisStore::open(&url)
        .await
        .expect("connect")
        .with_prefix(&prefix);
    let cached = CachedStore::load(again).await.expect("load");
    assert_eq!(cached.all().await.expect("all").len(), 2);
    let gone: Vec<Change> = cached
        .all()
        .await
        .expect("all")
        .into_iter()
        .map(Change::Remove)
        .collect();
    cached.apply(&gone).await.expect("clean");
    assert!(store.all().await.expect("all").is_empty());
    // A store under another prefix is another namespace.
    let other = RedisStore::open(&url)
        .await
        .expect("connect")
        .with_prefix("rvoip-test:none:");
    assert!(
        other
            .bindings("alice@example.com")
            .await
            .expect("read")
            .is_empty()
    );
    // A server that is not there is an error, not a hang.
    let down = RedisStore::open("redis://127.0.0.1:1/").await;
    assert!(down.is_err());
}

#[tokio::test]
async fn sql_store_on_postgres() {
    let url = std::env::var("RVOIP_TEST_POSTGRES")
        .expect("RVOIP_TEST_POSTGRES must name a PostgreSQL database (.ci/run starts one)");
    let db = infra_common::db::Database::open(&url)
        .await
        .expect("open postgres");
    sqlx_clean(&db).await;
    store_round_trip(&SqlStore::new(db).await.expect("store")).await;
}

async fn sqlx_clean(db: &infra_common::db::Database) {
    // The table may not exist yet on a fresh database.
    let store = SqlStore::new(db.clone()).await.expect("store");
    let all = store.all().await.expect("all");
    let gone: Vec<Change> = all.into_iter().map(Change::Remove).collect();
    store.apply(&gone).await.expect("clean");
}

#[test]
fn stateless_tags_are_stable_per_request_and_keyed() {
    let registrar = Registrar::new(RegistrarConfig::default(), 1);
    let first = register("st1", 1, &[]);
    // A retransmission: the same bytes, parsed again.
    let again = Message::parse(first.to_bytes()).expect("parses");
    let tag = registrar.stateless_tag(&first);
    assert_eq!(tag.len(), 16);
    assert_eq!(registrar.stateless_tag(&again), tag);
    // Another transaction (CSeq and branch) or another call: another tag.
    assert_ne!(registrar.stateless_tag(&register("st1", 2, &[])), tag);
    assert_ne!(registrar.stateless_tag(&register("st2", 1, &[])), tag);
    // Keyed per registrar: not predictable from the request alone.
    let other = Registrar::new(RegistrarConfig::default(), 1);
    assert_ne!(other.stateless_tag(&first), tag);
}
