//! Known-answer tests: RFC 3711 Appendix B, the libsrtp reference packets
//! for the same master key, and RFC 7714 §16–17.

use super::kdf::{Kdf, Label};
use super::*;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(char::is_ascii_hexdigit).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

const MASTER_KEY: &str = "E1F97A0D3E018BE0D64FA32C06DE4139";
const MASTER_SALT: &str = "0EC675AD498AFEEBB6960B3AABE6";

fn derive(label: Label, len: usize) -> Vec<u8> {
    let kdf = Kdf::new(&hex(MASTER_KEY), &hex(MASTER_SALT)).expect("kdf");
    let mut out = vec![0; len];
    kdf.derive(label, &mut out).expect("derive");
    out
}

#[test]
fn rfc3711_b3_key_derivation() {
    assert_eq!(
        derive(Label::RtpCipher, 16),
        hex("C61E7A93744F39EE10734AFE3FF7A087")
    );
    assert_eq!(
        derive(Label::RtpSalt, 14),
        hex("30CBBC08863D8C85D49DB34A9AE1")
    );
    assert_eq!(
        derive(Label::RtpAuth, 20),
        hex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4")
    );
    // The SRTCP labels on the same master key, as libsrtp derives them.
    assert_eq!(
        derive(Label::RtcpCipher, 16),
        hex("4c1aa45a81f73d61c800bbb00fbb1eaa")
    );
    assert_eq!(
        derive(Label::RtcpAuth, 20),
        hex("8d54534feb49ae8e7993a6bd0b844fc323a93dfd")
    );
    assert_eq!(
        derive(Label::RtcpSalt, 14),
        hex("9581c7ad87b3e530bf3e4454a8b3")
    );
}

#[test]
fn rfc3711_b2_aes_cm_keystream() {
    // Session salt F0..FD with SSRC 0 and index 0 gives the IV of B.2.
    let kdf = Kdf::new(
        &hex("2B7E151628AED2A6ABF7158809CF4F3C"),
        &hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD"),
    )
    .expect("kdf");
    // The KDF with label 0 and r = 0 runs exactly the B.2 keystream.
    let mut stream = vec![0u8; 48];
    kdf.derive(Label::RtpCipher, &mut stream)
        .expect("keystream");
    assert_eq!(
        stream,
        hex(
            "E03EAD0935C95E80E166B16DD92B4EB4 D23513162B02D0F72A43A2FE4A5F97AB
             41E95B3BB0A2E8DD477901E4FCA894C0"
        )
    );
}

fn reference_context() -> SrtpContext {
    SrtpContext::new(
        Profile::AesCm128HmacSha1_80,
        &hex(MASTER_KEY),
        &hex(MASTER_SALT),
    )
    .expect("context")
}

const RTP_PLAIN: &str = "800f1234decafbadcafebabeabababababababababababababababab";
const RTP_PROTECTED: &str =
    "800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb";
const RTCP_PLAIN: &str = "81c8000bcafebabeabababababababababababababababab";
const RTCP_PROTECTED: &str =
    "81c8000bcafebabe7128035be487b9bdbef89041f977a5a880000001993e08cd54d6c1230798";

#[test]
fn aes_cm_hmac_sha1_80_reference_packets() {
    let mut tx = reference_context();
    let mut buf = hex(RTP_PLAIN);
    tx.protect_rtp(&mut buf).expect("protect");
    assert_eq!(buf, hex(RTP_PROTECTED));
    // The reference SRTCP packet carries index 1: the second one sent.
    for expect_index in 0..2u8 {
        buf = hex(RTCP_PLAIN);
        tx.protect_rtcp(&mut buf).expect("protect rtcp");
        assert_eq!(buf[buf.len() - 11], expect_index);
    }
    assert_eq!(buf, hex(RTCP_PROTECTED));

    let mut rx = reference_context();
    let mut buf = hex(RTP_PROTECTED);
    rx.unprotect_rtp(&mut buf).expect("unprotect");
    assert_eq!(buf, hex(RTP_PLAIN));
    let mut buf = hex(RTCP_PROTECTED);
    rx.unprotect_rtcp(&mut buf).expect("unprotect rtcp");
    assert_eq!(buf, hex(RTCP_PLAIN));
    // Each is refused the second time.
    assert_eq!(
        rx.unprotect_rtp(&mut hex(RTP_PROTECTED)),
        Err(Error::Replayed)
    );
    assert_eq!(
        rx.unprotect_rtcp(&mut hex(RTCP_PROTECTED)),
        Err(Error::Replayed)
    );
}

#[test]
fn every_truncation_and_bit_flip_is_refused() {
    for (packet, rtcp) in [(RTP_PROTECTED, false), (RTCP_PROTECTED, true)] {
        let full = hex(packet);
        for len in 0..full.len() {
            let mut rx = reference_context();
            let mut buf = full[..len].to_vec();
            let r = if rtcp {
                rx.unprotect_rtcp(&mut buf)
            } else {
                rx.unprotect_rtp(&mut buf)
            };
            assert!(r.is_err(), "accepted {len} of {} octets", full.len());
        }
        for bit in 0..full.len() * 8 {
            // Flipping the version bits is a malformed packet, anything
            // else an authentication failure.
            let mut rx = reference_context();
            let mut buf = full.clone();
            buf[bit / 8] ^= 0x80 >> (bit % 8);
            let r = if rtcp {
                rx.unprotect_rtcp(&mut buf)
            } else {
                rx.unprotect_rtp(&mut buf)
            };
            assert!(r.is_err(), "accepted a flip of bit {bit}");
        }
    }
}

const GCM_KEY: &str = "000102030405060708090a0b0c0d0e0f";
const GCM_SALT: &str = "517569642070726f2071756f";

fn gcm_vector_context() -> SrtpContext {
    let mut salt = [0u8; 12];
    salt.copy_from_slice(&hex(GCM_SALT));
    SrtpContext::gcm_from_session(&hex(GCM_KEY), salt)
}

#[test]
fn rfc7714_16_srtp_aead_aes_128_gcm() {
    let plain = hex(
        "8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973
                     20646976 69736120 696e2070 61727465 73207472 6573",
    );
    let protected = hex(
        "8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca
                         be633bd5 0d294e6f 42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1
                         6a9152cf 765ee439 0cce",
    );
    let mut buf = plain.clone();
    gcm_vector_context().protect_rtp(&mut buf).expect("seal");
    assert_eq!(buf, protected);
    let mut rx = gcm_vector_context();
    rx.unprotect_rtp(&mut buf).expect("open");
    assert_eq!(buf, plain);
    let mut forged = protected.clone();
    forged[20] ^= 1;
    assert_eq!(
        gcm_vector_context().unprotect_rtp(&mut forged),
        Err(Error::AuthenticationFailed)
    );
}

#[test]
fn rfc7714_17_srtcp_aead_aes_128_gcm() {
    let plain = hex(
        "81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930
                     4c756e61 deadbeef deadbeef deadbeef deadbeef deadbeef",
    );
    let protected = hex(
        "81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7
                         6c06f32d c676a5f1 730d6fda 4ce09b46 86303ded 0bb9275b c84aa458
                         96cf4d2f c5abf872 45d9eade 800005d4",
    );
    let mut tx = gcm_vector_context();
    tx.rtcp_streams.insert(
        0x4d61_7273,
        RtcpStream {
            next_index: 0x5d4,
            replay: ReplayWindow::new(64),
        },
    );
    let mut buf = plain.clone();
    tx.protect_rtcp(&mut buf).expect("seal");
    assert_eq!(buf, protected);
    let mut rx = gcm_vector_context();
    rx.unprotect_rtcp(&mut buf).expect("open");
    assert_eq!(buf, plain);
}
