//! RFC 3261 §12 dialog behaviour.

use dialog_core::{Dialog, DialogError, DialogState, Dialogs, Match, Role};
use sip_core::builder::response_to;
use sip_core::header::{CSeq, From, Route, To};
use sip_core::{Message, Method, StatusCode};
use sip_test::msg;

fn answer(
    req: &Message,
    code: StatusCode,
    tag: &str,
    contact: &str,
    record_routes: &[&str],
) -> Message {
    let mut b = response_to(req, code, Some(tag)).header("Contact", format!("<{contact}>"));
    for rr in record_routes {
        b = b.header("Record-Route", rr);
    }
    b.build().expect("response")
}

fn with_record_routes(req: Message, rrs: &[&str]) -> Message {
    let mut m = req;
    for rr in rrs {
        m.push_header("Record-Route", rr);
    }
    Message::parse(m.to_bytes()).expect("reparse")
}

fn routes(m: &Message) -> Vec<String> {
    m.headers_of::<Route<'_>>()
        .map(|r| r.expect("route").to_string())
        .collect()
}

#[test]
fn uac_early_then_confirmed_with_reversed_route_set() {
    // §12.1.2: the UAC's route set is the Record-Route list reversed.
    let invite = msg::invite("uac-1@example.com", "a-tag");
    let rr = ["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"];
    let ringing = answer(
        &invite,
        StatusCode::RINGING,
        "b-tag",
        "sip:bob@192.0.2.20",
        &rr,
    );
    let mut d = Dialog::from_uac(&invite, &ringing).expect("dialog");
    assert_eq!((d.state(), d.role()), (DialogState::Early, Role::Uac));
    assert_eq!(
        d.route_set(),
        ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"]
    );
    let ok = answer(
        &invite,
        StatusCode::OK,
        "b-tag",
        "sip:bob@192.0.2.21:5070",
        &rr,
    );
    d.on_response(&ok);
    assert_eq!(d.state(), DialogState::Confirmed);
    assert_eq!(
        d.remote_target(),
        "sip:bob@192.0.2.21:5070",
        "the 2xx refreshes the target"
    );
    // ACK reuses the INVITE's CSeq number; BYE takes the next one.
    let ack = d.request(Method::Ack).build().expect("ack");
    assert_eq!(ack.header::<CSeq>().expect("cseq").expect("ok").seq, 1);
    let bye = d.request(Method::Bye).build().expect("bye");
    assert_eq!(
        bye.request_uri_str(),
        Some("sip:bob@192.0.2.21:5070"),
        "loose routing: Request-URI = remote target"
    );
    assert_eq!(
        routes(&bye),
        vec!["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"]
    );
    assert_eq!(bye.header::<CSeq>().expect("cseq").expect("ok").seq, 2);
    let from: From<'_> = bye.header().expect("from").expect("ok");
    let to: To<'_> = bye.header().expect("to").expect("ok");
    assert_eq!((from.tag(), to.tag()), (Some("a-tag"), Some("b-tag")));
    assert_eq!(bye.call_id(), Some("uac-1@example.com"));
}

#[test]
fn uas_route_set_cseq_order_target_refresh_and_bye() {
    // §12.1.1: the UAS keeps the Record-Route order; §12.2.2: CSeq rules.
    let invite = with_record_routes(
        msg::invite("uas-1@example.com", "a-tag"),
        &["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"],
    );
    let mut d = Dialog::from_uas(&invite, "b-tag", StatusCode::OK).expect("dialog");
    assert_eq!(d.state(), DialogState::Confirmed);
    assert_eq!(
        d.route_set(),
        ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"]
    );
    assert_eq!(d.remote_target(), "sip:alice@192.0.2.10:5060");
    // A re-INVITE with a new Contact refreshes the remote target.
    let mut reinvite = msg::invite("uas-1@example.com", "a-tag");
    reinvite.set_header("CSeq", "2 INVITE");
    reinvite.set_header("Contact", "<sip:alice@198.51.100.4:5062>");
    d.on_request(&reinvite).expect("in order");
    assert_eq!(d.remote_target(), "sip:alice@198.51.100.4:5062");
    // A lower CSeq is out of order: 500.
    let mut old = msg::options("uas-1@example.com", "a-tag");
    old.set_header("CSeq", "1 OPTIONS");
    let err = d.on_request(&old).expect_err("out of order");
    assert_eq!(
        (err.clone(), err.status()),
        (DialogError::OutOfOrder, StatusCode::SERVER_INTERNAL_ERROR)
    );
    // Our first request picks a CSeq; BYE from the peer ends the dialog.
    let info = d.request(Method::Info).build().expect("info");
    assert_eq!(info.header::<CSeq>().expect("cseq").expect("ok").seq, 1);
    let mut bye = msg::options("uas-1@example.com", "a-tag");
    bye.set_header("CSeq", "3 BYE");
    let bye_text = String::from_utf8_lossy(&bye.to_bytes()).replacen("OPTIONS sip:", "BYE sip:", 1);
    let bye = Message::parse(bytes::Bytes::from(bye_text)).expect("bye");
    d.on_request(&bye).expect("bye");
    assert_eq!(d.state(), DialogState::Terminated);
}

#[test]
fn strict_routing_puts_the_first_route_in_the_request_uri() {
    // §12.2.1.1 / §16.12.1.2: a route without lr is a strict router.
    let invite = msg::invite("strict-1@example.com", "a-tag");
    let ok = answer(
        &invite,
        StatusCode::OK,
        "b-tag",
        "sip:bob@192.0.2.20",
        &["<sip:p2.example.com;lr>", "<sip:strict.example.com>"],
    );
    let mut d = Dialog::from_uac(&invite, &ok).expect("dialog");
    let bye = d.request(Method::Bye).build().expect("bye");
    assert_eq!(bye.request_uri_str(), Some("sip:strict.example.com"));
    assert_eq!(
        routes(&bye),
        vec!["<sip:p2.example.com;lr>", "<sip:bob@192.0.2.20>"],
        "the remote target goes last"
    );
}

#[test]
fn forked_early_dialogs_and_classification() {
    // §12.1.2 / §13.2.2.4: each To tag makes its own early dialog.
    let invite = msg::invite("fork-1@example.com", "a-tag");
    let r1 = answer(
        &invite,
        StatusCode::RINGING,
        "b1",
        "sip:bob@192.0.2.21",
        &[],
    );
    let r2 = answer(
        &invite,
        StatusCode::RINGING,
        "b2",
        "sip:bob@192.0.2.22",
        &[],
    );
    let mut table = Dialogs::new();
    let d1 = table.insert(Dialog::from_uac(&invite, &r1).expect("d1"));
    let d2 = table.insert(Dialog::from_uac(&invite, &r2).expect("d2"));
    assert_ne!(d1, d2);
    assert_eq!(table.len(), 2);
    // The 2xx from one branch confirms that dialog only; a 486 ends an early one.
    table.get_mut(&d1).expect("d1").on_response(&answer(
        &invite,
        StatusCode::OK,
        "b1",
        "sip:bob@192.0.2.21",
        &[],
    ));
    table.get_mut(&d2).expect("d2").on_response(
        &response_to(&invite, StatusCode::BUSY_HERE, Some("b2"))
            .build()
            .expect("486"),
    );
    assert_eq!(
        table.get_mut(&d1).expect("d1").state(),
        DialogState::Confirmed
    );
    assert_eq!(
        table.get_mut(&d2).expect("d2").state(),
        DialogState::Terminated
    );
    // Classification of incoming requests (we are the UAC: the peer's requests carry our tag in To).
    let mut bye = table
        .get_mut(&d1)
        .expect("d1")
        .request(Method::Bye)
        .build()
        .expect("bye");
    // Turn our BYE around as if the peer sent it: swap From and To.
    let from = bye
        .raw_header(sip_core::header::HeaderName::From)
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .expect("from");
    let to = bye
        .raw_header(sip_core::header::HeaderName::To)
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .expect("to");
    bye.set_header("From", to);
    bye.set_header("To", from);
    assert_eq!(table.classify(&bye), Match::Dialog(d1.clone()));
    let mut stranger = bye.clone();
    stranger.set_header("To", "<sip:alice@example.com>;tag=nope");
    assert_eq!(
        table.classify(&stranger),
        Match::Unknown,
        "a To tag matching no dialog gets 481"
    );
    assert_eq!(
        table.classify(&msg::options("new@example.com", "x")),
        Match::OutOfDialog
    );
}

#[test]
fn dialog_creation_needs_tags_and_a_uas_needs_contact() {
    let invite = msg::invite("bad-1@example.com", "a-tag");
    let no_tag = response_to(&invite, StatusCode::RINGING, None)
        .header("Contact", "<sip:b@h>")
        .build()
        .expect("180");
    assert_eq!(
        Dialog::from_uac(&invite, &no_tag).expect_err("no To tag"),
        DialogError::Missing("To tag")
    );
    let no_contact = response_to(&invite, StatusCode::OK, Some("t"))
        .build()
        .expect("200");
    // A 2xx without Contact (SIPp's branchs sends one) still makes a
    // dialog; its requests go to the INVITE's Request-URI.
    let d = Dialog::from_uac(&invite, &no_contact).expect("dialog");
    assert_eq!(Some(d.remote_target()), invite.request_uri_str());
    let mut bare = invite.clone();
    bare.remove_header("Contact");
    assert_eq!(
        Dialog::from_uas(&bare, "t", StatusCode::OK).expect_err("no Contact"),
        DialogError::Missing("Contact")
    );
}
