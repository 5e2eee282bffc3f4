//! Just enough Ogg (RFC 3533) and Ogg Opus (RFC 7845) to hand Opus packets
//! to ffmpeg and to read back the packets ffmpeg writes.

/// CRC-32 of Ogg pages: polynomial 0x04C11DB7, no reflection, no final xor.
fn crc(data: &[u8]) -> u32 {
    let mut crc = 0u32;
    for &b in data {
        crc ^= u32::from(b) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04C1_1DB7
            } else {
                crc << 1
            };
        }
    }
    crc
}

fn page(out: &mut Vec<u8>, flags: u8, granule: u64, seq: u32, packet: &[u8]) {
    let start = out.len();
    out.extend_from_slice(b"OggS");
    out.push(0);
    out.push(flags);
    out.extend_from_slice(&granule.to_le_bytes());
    out.extend_from_slice(&0x5256_4f49u32.to_le_bytes()); // serial
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(&[0; 4]); // CRC, filled below
    let mut lacing = vec![255u8; packet.len() / 255];
    lacing.push((packet.len() % 255) as u8);
    out.push(lacing.len() as u8);
    out.extend_from_slice(&lacing);
    out.extend_from_slice(packet);
    let c = crc(&out[start..]);
    out[start + 22..start + 26].copy_from_slice(&c.to_le_bytes());
}

/// An Ogg Opus file of `packets` (each under 64 KiB), one packet per page,
/// each packet `frame` samples at 48 kHz.
pub(crate) fn write_opus(
    packets: &[Vec<u8>],
    channels: u8,
    input_rate: u32,
    frame: u64,
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut head = b"OpusHead".to_vec();
    head.push(1);
    head.push(channels);
    head.extend_from_slice(&0u16.to_le_bytes()); // pre-skip
    head.extend_from_slice(&input_rate.to_le_bytes());
    head.extend_from_slice(&0i16.to_le_bytes()); // gain
    head.push(0); // mapping family
    page(&mut out, 2, 0, 0, &head);
    let mut tags = b"OpusTags".to_vec();
    tags.extend_from_slice(&5u32.to_le_bytes());
    tags.extend_from_slice(b"rvoip");
    tags.extend_from_slice(&0u32.to_le_bytes());
    page(&mut out, 0, 0, 1, &tags);
    for (i, p) in packets.iter().enumerate() {
        let last = i + 1 == packets.len();
        let granule = (i as u64 + 1) * frame;
        page(&mut out, if last { 4 } else { 0 }, granule, i as u32 + 2, p);
    }
    out
}

/// The packets of an Ogg stream (headers included), joining lacing values.
pub(crate) fn read_packets(data: &[u8]) -> Vec<Vec<u8>> {
    let mut packets = Vec::new();
    let mut current = Vec::new();
    let mut pos = 0;
    while pos + 27 <= data.len() && &data[pos..pos + 4] == b"OggS" {
        let segments = usize::from(data[pos + 26]);
        let lacing = &data[pos + 27..pos + 27 + segments];
        let mut body = pos + 27 + segments;
        for &len in lacing {
            current.extend_from_slice(&data[body..body + usize::from(len)]);
            body += usize::from(len);
            if len < 255 {
                packets.push(std::mem::take(&mut current));
            }
        }
        pos = body;
    }
    packets
}
