//! The UDP driver and port pool on loopback: batched receive (with GRO
//! split apart), GSO sends that arrive as separate datagrams, the pool's
//! even ports and exhaustion, and a latching relay that forwards only the
//! signalled peer's packets.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use rtp_core::latch::{Latch, LatchPolicy};
use rtp_core::net::{PortPool, RecvBatch, RtcpMode, SendBatch, UdpDriver};
use rtp_core::packet::RtpHeader;
use rtp_core::packet::RtpPacket;

const LOOPBACK: Ipv4Addr = Ipv4Addr::LOCALHOST;

fn rtp(seq: u16) -> Vec<u8> {
    let mut buf = Vec::new();
    RtpHeader {
        sequence: seq,
        ssrc: 77,
        ..Default::default()
    }
    .write(&[seq as u8; 160], &mut buf)
    .expect("rtp");
    buf
}

fn std_socket() -> UdpSocket {
    let s = UdpSocket::bind((LOOPBACK, 0)).expect("bind");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    s
}

#[tokio::test]
async fn batched_receive_and_gso_send_keep_every_datagram() {
    let driver = UdpDriver::bind((LOOPBACK, 0).into()).expect("driver");
    let to = driver.local_addr().expect("addr");
    let peer = std_socket();
    for seq in 0..500u16 {
        peer.send_to(&rtp(seq), to).expect("send");
    }
    let mut batch = RecvBatch::new(&driver);
    let mut got = Vec::new();
    while got.len() < 500 {
        tokio::time::timeout(Duration::from_secs(5), driver.recv_batch(&mut batch))
            .await
            .expect("in time")
            .expect("recv");
        for (from, d) in batch.iter() {
            assert_eq!(from, peer.local_addr().expect("addr"));
            got.push(RtpPacket::parse(d).expect("rtp").sequence());
        }
    }
    assert_eq!(got, (0..500).collect::<Vec<u16>>());

    // 100 equal datagrams to one peer go out in few sends, arrive as 100.
    let mut out = SendBatch::new(&driver);
    let dest = peer.local_addr().expect("addr");
    for seq in 0..100u16 {
        out.push(dest, &rtp(seq));
    }
    assert_eq!(out.len(), 100);
    assert!(out.sends() <= 100usize.div_ceil(driver.max_gso_segments().min(64)));
    driver.send_batch(&mut out).await.expect("send");
    assert!(out.is_empty());
    let mut buf = [0u8; 2048];
    for seq in 0..100u16 {
        let (n, _) = peer.recv_from(&mut buf).expect("recv");
        assert_eq!(&buf[..n], &rtp(seq)[..]);
    }
}

#[tokio::test]
async fn the_pool_hands_out_even_ports_until_the_range_is_spent() {
    // Below the kernel's ephemeral range so no other socket takes them.
    let pool = PortPool::new(LOOPBACK.into(), 23_001..=23_011, RtcpMode::Separate).expect("pool");
    let mut held = Vec::new();
    loop {
        match pool.allocate() {
            Ok(ports) => held.push(ports),
            Err(e) => {
                assert_eq!(e.kind(), std::io::ErrorKind::AddrInUse, "{e}");
                assert!(e.to_string().contains("23001-23011"), "{e}");
                break;
            }
        }
    }
    let ports: Vec<u16> = held.iter().map(|p| p.port()).collect();
    assert_eq!(ports, [23_002, 23_004, 23_006, 23_008, 23_010]);
    for p in &held {
        let rtcp = p.rtcp.as_ref().expect("rtcp").local_addr().expect("addr");
        assert_eq!(rtcp.port(), p.port() + 1);
    }
    assert_eq!(pool.in_use(), 5);
    held.remove(1);
    assert_eq!(pool.in_use(), 4);
    assert_eq!(pool.allocate().expect("freed").port(), 23_004);

    let mux = PortPool::new(LOOPBACK.into(), 23_100..=23_101, RtcpMode::Mux).expect("pool");
    let p = mux.allocate().expect("port");
    assert!(p.rtcp.is_none() && p.port() == 23_100);
    assert!(PortPool::new(LOOPBACK.into(), 23_201..=23_201, RtcpMode::Mux).is_err());
}

#[tokio::test]
async fn a_relay_forwards_only_the_signalled_peer() {
    let relay = UdpDriver::bind((LOOPBACK, 0).into()).expect("relay");
    let relay_addr = relay.local_addr().expect("addr");
    let caller = std_socket();
    let callee = std_socket();
    // The caller signalled 127.0.0.1 with some port; its NAT picks another.
    let signalled = SocketAddr::new(LOOPBACK.into(), 9);
    let stranger = UdpSocket::bind((Ipv4Addr::new(127, 0, 0, 2), 0)).expect("stranger");
    let task = tokio::spawn(async move {
        let now = Instant::now();
        let mut latch = Latch::new(now, signalled, LatchPolicy::SignalledHost);
        let mut batch = RecvBatch::new(&relay);
        let mut out = SendBatch::new(&relay);
        let (mut forwarded, mut dropped) = (0, 0);
        while forwarded + dropped < 20 {
            relay.recv_batch(&mut batch).await.expect("recv");
            for (from, d) in batch.iter() {
                if latch.admit(Instant::now(), from) && RtpPacket::parse(d).is_ok() {
                    latch.confirm(Instant::now(), from);
                    out.push(callee.local_addr().expect("addr"), d);
                    forwarded += 1;
                } else {
                    dropped += 1;
                }
            }
            relay.send_batch(&mut out).await.expect("send");
        }
        (forwarded, dropped, latch.destination(), callee)
    });
    for seq in 0..10u16 {
        stranger
            .send_to(&rtp(1000 + seq), relay_addr)
            .expect("send");
        caller.send_to(&rtp(seq), relay_addr).expect("send");
    }
    let (forwarded, dropped, latched, callee) = task.await.expect("relay");
    assert_eq!((forwarded, dropped), (10, 10));
    assert_eq!(latched, caller.local_addr().expect("addr"));
    let mut buf = [0u8; 2048];
    for seq in 0..10u16 {
        let (n, _) = callee.recv_from(&mut buf).expect("recv");
        assert_eq!(RtpPacket::parse(&buf[..n]).expect("rtp").sequence(), seq);
    }
}
