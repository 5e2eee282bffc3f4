//! SRTP/SRTCP behaviour through the public API: every profile across a
//! sequence-number wrap with reordering, replay and window limits, MKI,
//! the weakened modes, the SSRC bound, and SDES keying.

use rtp_core::packet::{RtpHeader, RtpPacket};
use rtp_core::rtcp::{ReportBlock, RtcpPacket};
use rtp_core::sdes::{CryptoAttribute, Mki};
use rtp_core::srtp::{Error, MAX_STREAMS, Options, Profile, SrtpContext};

fn rtp(seq: u16, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    let mut buf = Vec::new();
    RtpHeader {
        payload_type: 0,
        sequence: seq,
        timestamp: u32::from(seq) * 160,
        ssrc,
        csrcs: &[1, 2],
        ..Default::default()
    }
    .write(payload, &mut buf)
    .expect("rtp");
    buf
}

fn pair(profile: Profile, options: Options) -> (SrtpContext, SrtpContext) {
    let key = [0x5Au8; 16];
    let salt = vec![0xA5u8; profile.master_salt_len()];
    let make = || SrtpContext::with_options(profile, &key, &salt, options.clone()).expect("ctx");
    (make(), make())
}

#[test]
fn every_profile_survives_a_wrap_with_reordering() {
    let mki = Options {
        mki: Some(vec![0, 0, 0, 1]),
        ..Options::default()
    };
    for options in [Options::default(), mki] {
        for profile in Profile::ALL {
            let (mut tx, mut rx) = pair(profile, options.clone());
            let mut sent = Vec::new();
            for i in 0..1000u32 {
                let seq = (65_000 + i) as u16;
                let plain = rtp(seq, 0xDEAD_BEEF, &[i as u8; 160]);
                let mut buf = plain.clone();
                tx.protect_rtp(&mut buf).expect("protect");
                let overhead = profile.rtp_overhead() + options.mki.as_ref().map_or(0, Vec::len);
                assert_eq!(buf.len(), plain.len() + overhead);
                assert_ne!(&buf[20..40], &plain[20..40], "payload left in the clear");
                sent.push((plain, buf));
            }
            // Swap neighbours, including the pair across the wrap.
            for i in (0..sent.len() - 1).step_by(2) {
                sent.swap(i, i + 1);
            }
            for (plain, mut buf) in sent {
                rx.unprotect_rtp(&mut buf).expect("unprotect");
                assert_eq!(buf, plain, "{profile}");
            }
            // SRTCP both ways.
            let mut report = Vec::new();
            RtcpPacket::ReceiverReport {
                ssrc: 9,
                reports: vec![ReportBlock::default()],
            }
            .write(&mut report)
            .expect("rr");
            for _ in 0..3 {
                let mut buf = report.clone();
                tx.protect_rtcp(&mut buf).expect("protect rtcp");
                assert_eq!(
                    buf.len(),
                    report.len()
                        + profile.rtcp_overhead()
                        + options.mki.as_ref().map_or(0, Vec::len)
                );
                rx.unprotect_rtcp(&mut buf).expect("unprotect rtcp");
                assert_eq!(buf, report);
            }
        }
    }
}

#[test]
fn replays_and_packets_behind_the_window_are_refused() {
    for (window, behind_ok) in [(64, false), (256, true)] {
        let options = Options {
            window,
            ..Options::default()
        };
        let (mut tx, mut rx) = pair(Profile::AesCm128HmacSha1_80, options);
        let mut packets = Vec::new();
        for seq in 0..200u16 {
            let mut buf = rtp(seq, 1, b"x");
            tx.protect_rtp(&mut buf).expect("protect");
            packets.push(buf);
        }
        let late = packets[50].clone();
        for p in &packets[100..] {
            rx.unprotect_rtp(&mut p.clone()).expect("in order");
        }
        assert_eq!(
            rx.unprotect_rtp(&mut packets[150].clone()),
            Err(Error::Replayed)
        );
        let r = rx.unprotect_rtp(&mut late.clone());
        if behind_ok {
            assert_eq!(r, Ok(()));
        } else {
            assert_eq!(r, Err(Error::TooOld));
        }
    }
}

#[test]
fn a_failed_packet_does_not_move_the_window() {
    let (mut tx, mut rx) = pair(Profile::AeadAes128Gcm, Options::default());
    let mut good = rtp(10, 1, b"payload");
    tx.protect_rtp(&mut good).expect("protect");
    let mut forged = rtp(30_000, 1, b"payload");
    tx.protect_rtp(&mut forged).expect("protect");
    let last = forged.len() - 1;
    forged[last] ^= 1;
    assert_eq!(
        rx.unprotect_rtp(&mut forged),
        Err(Error::AuthenticationFailed)
    );
    assert_eq!(rx.unprotect_rtp(&mut good), Ok(()));
}

#[test]
fn the_wrong_key_or_mki_fails_authentication() {
    let (mut tx, _) = pair(Profile::AesCm128HmacSha1_32, Options::default());
    let mut other =
        SrtpContext::new(Profile::AesCm128HmacSha1_32, &[1; 16], &[2; 14]).expect("ctx");
    let mut buf = rtp(1, 1, b"abc");
    tx.protect_rtp(&mut buf).expect("protect");
    assert_eq!(
        other.unprotect_rtp(&mut buf),
        Err(Error::AuthenticationFailed)
    );

    let with = |mki: u8| Options {
        mki: Some(vec![mki]),
        ..Options::default()
    };
    let (mut tx, _) = pair(Profile::AesCm128HmacSha1_80, with(1));
    let (_, mut rx) = pair(Profile::AesCm128HmacSha1_80, with(2));
    let mut buf = rtp(1, 1, b"abc");
    tx.protect_rtp(&mut buf).expect("protect");
    assert_eq!(rx.unprotect_rtp(&mut buf), Err(Error::AuthenticationFailed));
}

#[test]
fn weakened_modes_do_what_they_say() {
    let clear = Options {
        unencrypted_srtp: true,
        ..Options::default()
    };
    let (mut tx, mut rx) = pair(Profile::AesCm128HmacSha1_80, clear);
    let plain = rtp(5, 1, b"visible payload");
    let mut buf = plain.clone();
    tx.protect_rtp(&mut buf).expect("protect");
    assert_eq!(&buf[..plain.len()], &plain[..]);
    assert_eq!(buf.len(), plain.len() + 10);
    rx.unprotect_rtp(&mut buf).expect("unprotect");
    assert_eq!(buf, plain);

    let no_tag = Options {
        unauthenticated_srtp: true,
        ..Options::default()
    };
    let (mut tx, mut rx) = pair(Profile::AesCm128HmacSha1_80, no_tag);
    let mut buf = plain.clone();
    tx.protect_rtp(&mut buf).expect("protect");
    assert_eq!(buf.len(), plain.len());
    assert_ne!(buf, plain);
    rx.unprotect_rtp(&mut buf).expect("unprotect");
    assert_eq!(buf, plain);

    let weak_gcm = SrtpContext::with_options(
        Profile::AeadAes128Gcm,
        &[0; 16],
        &[0; 12],
        Options {
            unencrypted_srtcp: true,
            ..Options::default()
        },
    );
    assert!(matches!(weak_gcm, Err(Error::BadKey(_))));
}

#[test]
fn the_ssrc_table_is_bounded() {
    let (mut tx, mut rx) = pair(Profile::AesCm128HmacSha1_80, Options::default());
    for ssrc in 0..=MAX_STREAMS as u32 {
        let mut buf = rtp(1, ssrc, b"x");
        let sent = tx.protect_rtp(&mut buf);
        if (ssrc as usize) < MAX_STREAMS {
            sent.expect("protect");
            rx.unprotect_rtp(&mut buf).expect("unprotect");
        } else {
            assert_eq!(sent, Err(Error::TooManyStreams));
        }
    }
}

#[test]
fn malformed_packets_are_errors() {
    let (_, mut rx) = pair(Profile::AesCm128HmacSha1_80, Options::default());
    for bytes in [
        &[][..],
        &[0x80; 11],
        &[0x40; 40],
        &[0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF],
    ] {
        assert!(matches!(
            rx.unprotect_rtp(&mut bytes.to_vec()),
            Err(Error::Malformed(_))
        ));
        assert!(rx.unprotect_rtcp(&mut bytes.to_vec()).is_err());
    }
}

#[test]
fn sdes_parses_the_rfc_4568_example() {
    let a: CryptoAttribute =
        "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4"
            .parse()
            .expect("parse");
    assert_eq!(a.tag, 1);
    assert_eq!(a.profile, Profile::AesCm128HmacSha1_80);
    assert_eq!((a.key.len(), a.salt.len()), (16, 14));
    assert_eq!(a.lifetime, Some(1 << 20));
    assert_eq!(
        a.mki,
        Some(Mki {
            value: 1,
            length: 4
        })
    );
    assert_eq!(a.options().mki, Some(vec![0, 0, 0, 1]));
    assert_eq!(
        a.to_string(),
        "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4"
    );
    let b: CryptoAttribute = format!("a=crypto:{a} UNENCRYPTED_SRTCP WSH=128")
        .parse()
        .expect("params");
    assert!(b.unencrypted_srtcp && b.window == Some(128));
    assert_eq!(b.to_string().parse::<CryptoAttribute>().expect("again"), b);
}

#[test]
fn sdes_refuses_what_it_cannot_honour() {
    let key = "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";
    for (line, needle) in [
        (format!("1 F8_128_HMAC_SHA1_80 {key}"), "crypto-suite"),
        (format!("1 AEAD_AES_128_GCM {key}"), "needs 28"),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:%%%".to_string(), "base64"),
        (format!("1 AES_CM_128_HMAC_SHA1_80 {key} KDR=1"), "KDR"),
        (format!("1 AES_CM_128_HMAC_SHA1_80 {key} FOO"), "FOO"),
        (format!("1 AES_CM_128_HMAC_SHA1_80 {key} WSH=10"), "WSH"),
        (format!("1 AES_CM_128_HMAC_SHA1_80 {key}|1:9"), "MKI length"),
        (
            format!("1 AES_CM_128_HMAC_SHA1_80 {key}|256:1"),
            "MKI value",
        ),
        (
            format!("1 AES_CM_128_HMAC_SHA1_80 {key};{key}"),
            "more than one",
        ),
        (format!("x AES_CM_128_HMAC_SHA1_80 {key}"), "tag"),
        ("1 AES_CM_128_HMAC_SHA1_80".to_string(), "key-params"),
    ] {
        let e = line.parse::<CryptoAttribute>().expect_err(&line);
        assert!(e.to_string().contains(needle), "{line}: {e}");
    }
}

#[test]
fn an_sdes_offer_keys_both_ends() {
    for profile in Profile::ALL {
        let offer = CryptoAttribute::generate(7, profile).expect("generate");
        let received: CryptoAttribute = offer.to_string().parse().expect("parse");
        let mut tx = offer.context().expect("tx");
        let mut rx = received.context().expect("rx");
        let plain = rtp(1, 42, b"hello");
        let mut buf = plain.clone();
        tx.protect_rtp(&mut buf).expect("protect");
        assert!(RtpPacket::parse(&buf).is_ok());
        rx.unprotect_rtp(&mut buf).expect("unprotect");
        assert_eq!(buf, plain);
        assert_ne!(
            CryptoAttribute::generate(7, profile).expect("again").key,
            offer.key
        );
    }
}
