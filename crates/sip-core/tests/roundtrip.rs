//! print → parse → equal, for every typed header, URIs and whole messages.
//! Strategies generate values in the canonical form the printer emits, so
//! both `print(parse(s)) == s` and `parse(print(x)) == x` must hold.

use proptest::prelude::*;
use sip_core::header::*;
use sip_core::{Message, Method, StatusCode, Uri, builder::Builder};

fn token() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9][a-zA-Z0-9.!%*_+`'~-]{0,10}"
}
fn word() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9][a-zA-Z0-9.!%*_+`'~()<>:\\\\\"/\\[\\]?{}-]{0,15}"
}
fn domain() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{0,8}(\\.[a-z][a-z0-9-]{0,8}){0,3}"
}
fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        domain(),
        any::<[u8; 4]>().prop_map(|o| format!("{}.{}.{}.{}", o[0], o[1], o[2], o[3])),
        any::<[u16; 8]>().prop_map(|s| format!("[{}]", std::net::Ipv6Addr::from(s))),
        any::<[u8; 4]>().prop_map(|o| format!("[::ffff:{}.{}.{}.{}]", o[0], o[1], o[2], o[3])),
    ]
}
fn opt<S: Strategy<Value = String>>(s: S, prefix: &'static str) -> impl Strategy<Value = String> {
    proptest::option::of(s).prop_map(move |o| o.map(|v| format!("{prefix}{v}")).unwrap_or_default())
}
fn escaped_user() -> impl Strategy<Value = String> {
    "([a-zA-Z0-9_.!~*'()&=+$,;?/-]|%[0-9A-F]{2}){1,12}"
}
fn uri_params() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        (
            "[a-z][a-z0-9-]{0,6}",
            proptest::option::of("[a-zA-Z0-9.:-]{1,8}"),
        ),
        0..4,
    )
    .prop_map(|mut v| {
        // A URI parameter name appears at most once (RFC 3261 §19.1.1).
        let mut seen = std::collections::HashSet::new();
        v.retain(|(n, _)| seen.insert(n.clone()));
        v.into_iter()
            .map(|(n, val)| match val {
                Some(val) => format!(";{n}={val}"),
                None => format!(";{n}"),
            })
            .collect()
    })
}
fn sip_uri() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just("sip"), Just("sips")],
        proptest::option::of((
            escaped_user(),
            proptest::option::of("[a-zA-Z0-9&=+$,]{1,6}"),
        )),
        host(),
        proptest::option::of(1u16..),
        uri_params(),
        opt(
            "[a-z]{1,5}=([a-zA-Z0-9]|%[0-9A-F]{2}){1,6}(&[a-z]{1,5}=[a-zA-Z0-9]{1,6}){0,2}",
            "?",
        ),
    )
        .prop_map(|(scheme, user, host, port, params, headers)| {
            let ui = match user {
                Some((u, Some(p))) => format!("{u}:{p}@"),
                Some((u, None)) => format!("{u}@"),
                None => String::new(),
            };
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            format!("{scheme}:{ui}{host}{port}{params}{headers}")
        })
}
fn any_uri() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => sip_uri(),
        1 => "\\+[0-9]{1,3}(-[0-9]{2,4}){1,3}(;ext=[0-9]{1,4})?".prop_map(|n| format!("tel:{n}")),
        1 => "[0-9]{3,7};phone-context=[a-z]{2,8}\\.com".prop_map(|n| format!("tel:{n}")),
        1 => "urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}",
    ]
}
/// Header params: tokens, token values, quoted values, IPv6 references.
fn header_params() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        (
            token(),
            proptest::option::of(prop_oneof![
                token(),
                "\"[ a-zA-Z0-9<>:;,@.]{0,10}\"".prop_map(String::from)
            ]),
        ),
        0..4,
    )
    .prop_map(|v| {
        v.into_iter()
            .map(|(n, val)| match val {
                Some(val) => format!(";{n}={val}"),
                None => format!(";{n}"),
            })
            .collect()
    })
}
fn display() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "\"([ a-zA-Z0-9,;<>@:]|\\\\\\\\|\\\\\")*\" ".prop_map(String::from),
        "[a-zA-Z0-9]{1,6}( [a-zA-Z0-9.!%*_+`'~-]{1,6}){0,2} ".prop_map(String::from),
    ]
}
fn name_addr() -> impl Strategy<Value = String> {
    (display(), any_uri(), header_params()).prop_map(|(d, u, p)| format!("{d}<{u}>{p}"))
}
fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("INVITE".to_owned()),
        Just("ACK".to_owned()),
        Just("BYE".to_owned()),
        Just("REGISTER".to_owned()),
        "[A-Z][A-Z0-9_.!%*+`'~-]{0,9}",
    ]
}

/// Parses `s`, checks it prints back to `s` and reparses equal.
macro_rules! roundtrip {
    ($name:ident, $ty:ty, $strategy:expr) => {
        proptest! {
            #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]
            #[test]
            fn $name(s in $strategy) {
                let parsed = <$ty as Header>::parse(&s).map_err(|e| TestCaseError::fail(format!("{s:?}: {e}")))?;
                let printed = parsed.to_string();
                prop_assert_eq!(&printed, &s);
                let again = <$ty as Header>::parse(&printed).map_err(|e| TestCaseError::fail(format!("{printed:?}: {e}")))?;
                prop_assert_eq!(again, parsed);
            }
        }
    };
}

fn via() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            Just("UDP"),
            Just("TCP"),
            Just("TLS"),
            Just("WS"),
            Just("WSS"),
            Just("SCTP")
        ],
        host(),
        proptest::option::of(1u16..),
        "[a-zA-Z0-9.!%*_+`'~-]{1,16}",
        proptest::option::of(proptest::option::of(1u16..)),
        proptest::option::of(any::<[u8; 4]>()),
        header_params(),
    )
        .prop_map(|(t, h, port, branch, rport, recv, extra)| {
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            let rport = match rport {
                None => String::new(),
                Some(None) => ";rport".into(),
                Some(Some(p)) => format!(";rport={p}"),
            };
            let recv = recv
                .map(|o| format!(";received={}.{}.{}.{}", o[0], o[1], o[2], o[3]))
                .unwrap_or_default();
            format!("SIP/2.0/{t} {h}{port};branch=z9hG4bK{branch}{rport}{recv}{extra}")
        })
        .prop_filter("reserved Via params", |s| {
            !s.contains(";ttl")
                && !s.contains(";maddr")
                && s.matches(";received").count() <= 1
                && s.matches(";rport").count() <= 1
        })
}

roundtrip!(via_roundtrip, Via<'_>, via());
roundtrip!(from_roundtrip, From<'_>, name_addr());
roundtrip!(to_roundtrip, To<'_>, name_addr());
roundtrip!(route_roundtrip, Route<'_>, name_addr());
roundtrip!(record_route_roundtrip, RecordRoute<'_>, name_addr());
roundtrip!(path_roundtrip, Path<'_>, name_addr());
roundtrip!(refer_to_roundtrip, ReferTo<'_>, name_addr());
roundtrip!(referred_by_roundtrip, ReferredBy<'_>, name_addr());
roundtrip!(pai_roundtrip, PAssertedIdentity<'_>, name_addr());
roundtrip!(ppi_roundtrip, PPreferredIdentity<'_>, name_addr());
roundtrip!(
    contact_roundtrip,
    Contact<'_>,
    prop_oneof![
        Just("*".to_owned()),
        (
            display(),
            sip_uri(),
            proptest::option::of(0u16..=1000),
            proptest::option::of(any::<u32>()),
            proptest::option::of("[0-9a-f]{8}"),
            proptest::option::of(1u32..100)
        )
            .prop_map(|(d, u, q, e, inst, reg)| {
                let q = q
                    .map(|q| {
                        if q == 1000 {
                            ";q=1".to_owned()
                        } else {
                            format!(";q=0.{q:03}")
                        }
                    })
                    .unwrap_or_default();
                let e = e.map(|e| format!(";expires={e}")).unwrap_or_default();
                let inst = inst
                    .map(|i| format!(";+sip.instance=\"<urn:uuid:{i}>\""))
                    .unwrap_or_default();
                let reg = reg.map(|r| format!(";reg-id={r}")).unwrap_or_default();
                format!("{d}<{u}>{q}{e}{inst}{reg}")
            })
    ]
);
roundtrip!(
    call_id_roundtrip,
    CallId<'_>,
    (word(), proptest::option::of(word()))
        .prop_map(|(a, b)| match b {
            Some(b) => format!("{a}@{b}"),
            None => a,
        })
        .prop_filter("one @", |s| s.matches('@').count() <= 1)
);
roundtrip!(
    cseq_roundtrip,
    CSeq,
    ((0u32..(1 << 31)), method()).prop_map(|(n, m)| format!("{n} {m}"))
);
roundtrip!(
    rack_roundtrip,
    RAck,
    ((1u32..), any::<u32>(), method()).prop_map(|(r, n, m)| format!("{r} {n} {m}"))
);
roundtrip!(
    max_forwards_roundtrip,
    MaxForwards,
    any::<u8>().prop_map(|n| n.to_string())
);
roundtrip!(
    content_length_roundtrip,
    ContentLength,
    any::<u32>().prop_map(|n| n.to_string())
);
roundtrip!(
    expires_roundtrip,
    Expires,
    any::<u32>().prop_map(|n| n.to_string())
);
roundtrip!(
    min_expires_roundtrip,
    MinExpires,
    any::<u32>().prop_map(|n| n.to_string())
);
roundtrip!(
    rseq_roundtrip,
    RSeq,
    any::<u32>().prop_map(|n| n.to_string())
);
roundtrip!(
    content_type_roundtrip,
    ContentType<'_>,
    (token(), token(), header_params())
        .prop_map(|(a, b, p)| format!("{a}/{b}{p}"))
        .prop_filter("no wildcards", |s| !s.starts_with("*/")
            && !s.contains("/*"))
);
roundtrip!(
    accept_roundtrip,
    Accept<'_>,
    prop_oneof![
        (token(), token(), header_params())
            .prop_map(|(a, b, p)| format!("{a}/{b}{p}"))
            .prop_filter("no wildcard type", |s| !s.starts_with("*/")),
        Just("*/*".to_owned()),
    ]
);
roundtrip!(content_encoding_roundtrip, ContentEncoding<'_>, token());
roundtrip!(
    content_disposition_roundtrip,
    ContentDisposition<'_>,
    (token(), header_params()).prop_map(|(t, p)| format!("{t}{p}"))
);
roundtrip!(allow_roundtrip, Allow, method());
roundtrip!(supported_roundtrip, Supported<'_>, token());
roundtrip!(require_roundtrip, Require<'_>, token());
roundtrip!(proxy_require_roundtrip, ProxyRequire<'_>, token());
roundtrip!(unsupported_roundtrip, Unsupported<'_>, token());
roundtrip!(allow_events_roundtrip, AllowEvents<'_>, token());
roundtrip!(
    event_roundtrip,
    Event<'_>,
    (token(), header_params()).prop_map(|(t, p)| format!("{t}{p}"))
);
roundtrip!(
    subscription_state_roundtrip,
    SubscriptionState<'_>,
    (
        prop_oneof![Just("active"), Just("pending"), Just("terminated")],
        proptest::option::of(any::<u32>()),
        header_params()
    )
        .prop_map(|(s, e, p)| format!(
            "{s}{}{p}",
            e.map(|e| format!(";expires={e}")).unwrap_or_default()
        ))
);
roundtrip!(
    reason_roundtrip,
    Reason<'_>,
    (
        prop_oneof![Just("SIP"), Just("Q.850")],
        0u16..700,
        "[ a-zA-Z0-9]{0,20}"
    )
        .prop_map(|(p, c, t)| format!("{p};cause={c};text=\"{t}\""))
);
roundtrip!(
    session_expires_roundtrip,
    SessionExpires<'_>,
    (
        any::<u32>(),
        proptest::option::of(prop_oneof![Just("uac"), Just("uas")])
    )
        .prop_map(|(s, r)| format!(
            "{s}{}",
            r.map(|r| format!(";refresher={r}")).unwrap_or_default()
        ))
);
roundtrip!(
    min_se_roundtrip,
    MinSe<'_>,
    any::<u32>().prop_map(|n| n.to_string())
);
roundtrip!(
    replaces_roundtrip,
    Replaces<'_>,
    (word(), token(), token(), any::<bool>())
        .prop_filter("no @ in word", |(w, ..)| !w.contains('@'))
        .prop_map(|(c, t, f, e)| format!(
            "{c};to-tag={t};from-tag={f}{}",
            if e { ";early-only" } else { "" }
        ))
);
roundtrip!(
    retry_after_roundtrip,
    RetryAfter<'_>,
    (
        any::<u32>(),
        proptest::option::of("\\([ a-z]{0,10}\\)"),
        proptest::option::of(any::<u32>())
    )
        .prop_map(|(s, c, d)| format!(
            "{s}{}{}",
            c.map(|c| format!(" {c}")).unwrap_or_default(),
            d.map(|d| format!(";duration={d}")).unwrap_or_default()
        ))
);
roundtrip!(
    warning_roundtrip,
    Warning<'_>,
    (300u16..400, domain(), "[ a-zA-Z0-9']{0,20}").prop_map(|(c, a, t)| format!("{c} {a} \"{t}\""))
);
roundtrip!(
    priority_roundtrip,
    Priority<'_>,
    prop_oneof![
        Just("emergency".to_owned()),
        Just("urgent".to_owned()),
        Just("normal".to_owned()),
        Just("non-urgent".to_owned()),
        token()
    ]
);
roundtrip!(
    privacy_roundtrip,
    Privacy<'_>,
    proptest::collection::vec(
        prop_oneof![
            Just("header"),
            Just("session"),
            Just("user"),
            Just("id"),
            Just("critical"),
            Just("none")
        ],
        1..4
    )
    .prop_map(|v| v.join(";"))
);
roundtrip!(
    date_roundtrip,
    Date<'_>,
    (
        0usize..7,
        1u32..29,
        0usize..12,
        1970u32..2100,
        0u32..24,
        0u32..60,
        0u32..60
    )
        .prop_map(|(d, dd, m, y, h, mi, s)| {
            let days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
            let months = [
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
            ];
            format!(
                "{}, {dd:02} {} {y} {h:02}:{mi:02}:{s:02} GMT",
                days[d], months[m]
            )
        })
);
roundtrip!(
    timestamp_roundtrip,
    Timestamp<'_>,
    (
        "[0-9]{1,8}(\\.[0-9]{1,4})?",
        proptest::option::of("[0-9]{1,4}(\\.[0-9]{1,3})?")
    )
        .prop_map(|(v, d)| match d {
            Some(d) => format!("{v} {d}"),
            None => v,
        })
);
roundtrip!(
    user_agent_roundtrip,
    UserAgent<'_>,
    "[a-zA-Z0-9]{1,8}/[0-9.]{1,6}( \\([a-z ]{1,10}\\))?"
);
roundtrip!(server_roundtrip, Server<'_>, "[a-zA-Z0-9]{1,8}/[0-9.]{1,6}");
roundtrip!(
    organization_roundtrip,
    Organization<'_>,
    "([a-zA-Z0-9&]([ a-zA-Z0-9&]{0,18}[a-zA-Z0-9&])?)?"
);
roundtrip!(
    subject_roundtrip,
    Subject<'_>,
    "([a-zA-Z0-9é]([ a-zA-Z0-9?!é]{0,18}[a-zA-Z0-9!])?)?"
);
roundtrip!(
    call_info_roundtrip,
    CallInfo<'_>,
    (
        any_uri(),
        prop_oneof![Just("icon"), Just("info"), Just("card")]
    )
        .prop_map(|(u, p)| format!("<{u}>;purpose={p}"))
);
roundtrip!(
    alert_info_roundtrip,
    AlertInfo<'_>,
    (any_uri(), header_params()).prop_map(|(u, p)| format!("<{u}>{p}"))
);

fn auth_params() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        (
            token(),
            prop_oneof![
                token(),
                "\"[ a-zA-Z0-9:/@.=,]{0,16}\"".prop_map(String::from)
            ],
        ),
        1..6,
    )
    .prop_map(|v| {
        v.into_iter()
            .map(|(n, val)| format!("{n}={val}"))
            .collect::<Vec<_>>()
            .join(", ")
    })
}
/// Credentials (a Bearer token68) when `challenge` is false; challenges
/// (Bearer with auth-params, RFC 8898 §2.3) when true.
fn auth_values(challenge: bool) -> impl Strategy<Value = String> {
    let bearer = if challenge {
        auth_params().prop_map(|p| format!("Bearer {p}")).boxed()
    } else {
        "[a-zA-Z0-9._~+/-]{4,40}={0,2}"
            .prop_map(|t| format!("Bearer {t}"))
            .boxed()
    };
    prop_oneof![
        auth_params().prop_map(|p| format!("Digest {p}")),
        bearer,
        (
            token(),
            "[a-zA-Z0-9=,\"-]([a-zA-Z0-9=,\" -]{0,20}[a-zA-Z0-9=\"])?"
        )
            .prop_filter("other scheme", |(s, _)| !s.eq_ignore_ascii_case("digest")
                && !s.eq_ignore_ascii_case("bearer"))
            .prop_map(|(s, r)| format!("{s} {r}")),
    ]
}
roundtrip!(
    authorization_roundtrip,
    Authorization<'_>,
    auth_values(false)
);
roundtrip!(
    proxy_authorization_roundtrip,
    ProxyAuthorization<'_>,
    auth_values(false)
);
roundtrip!(
    www_authenticate_roundtrip,
    WwwAuthenticate<'_>,
    auth_values(true)
);
roundtrip!(
    proxy_authenticate_roundtrip,
    ProxyAuthenticate<'_>,
    auth_values(true)
);

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn uri_roundtrip(s in any_uri()) {
        let u = Uri::parse(&s).map_err(|e| TestCaseError::fail(format!("{s:?}: {e}")))?;
        let printed = u.to_string();
        prop_assert_eq!(&printed, &s);
        let again = Uri::parse(&printed).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(again.equivalent(&u), "not equivalent after round trip: {}", printed);
        prop_assert_eq!(again, u);
    }

    /// Builds a message with generated headers (known and unknown), prints it,
    /// parses it and checks every value and the bytes survive.
    #[test]
    fn message_roundtrip(
        from in name_addr(), to in name_addr(), via in via(), call_id in word(), seq in 0u32..(1 << 31),
        unknown in proptest::collection::vec(("X-[A-Za-z0-9-]{1,10}", "[ -~]{0,30}[!-~]"), 0..4),
        body in proptest::collection::vec(any::<u8>(), 0..64),
        request in any::<bool>(),
    ) {
        let b = if request {
            Builder::request(Method::Options, "sip:bob@example.com")
        } else {
            Builder::response(StatusCode::OK)
        };
        let mut b = b.header("Via", &via).header("From", &from).header("To", &to)
            .header("Call-ID", &call_id).header("CSeq", format!("{seq} OPTIONS")).header("Max-Forwards", 70);
        for (n, v) in &unknown {
            b = b.header(n, v);
        }
        let msg = if body.is_empty() { b.build() } else { b.body(body.clone(), "application/octet-stream").build() }
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let bytes = msg.to_bytes();
        let again = Message::parse(bytes.clone()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&again.to_bytes(), &bytes, "print → parse → print differs");
        prop_assert_eq!(again.body(), &body[..]);
        let f: From<'_> = again.header().ok_or_else(|| TestCaseError::fail("no From"))??;
        prop_assert_eq!(f.to_string(), from);
        let v: Via<'_> = again.header().ok_or_else(|| TestCaseError::fail("no Via"))??;
        prop_assert_eq!(v.to_string(), via);
        // Unknown headers keep their exact bytes, in order.
        let got: Vec<(&str, &[u8])> = again.fields().filter(|f| f.raw_name.starts_with("X-")).map(|f| (f.raw_name, f.value)).collect();
        let want: Vec<(&str, &[u8])> = unknown.iter().map(|(n, v)| (n.as_str(), v.trim().as_bytes())).collect();
        prop_assert_eq!(got, want, "unknown header bytes changed");
        sip_core::validate::check_syntax(&again).map_err(|e| TestCaseError::fail(e.to_string()))?;
    }
}
