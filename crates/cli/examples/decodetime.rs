#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use prost::Message;
use std::time::Instant;
fn main() {
    let now = chrono::Utc::now();
    let n = 200_000;
    let evs: Vec<beaconport_proto::pb::event::Event> =
        beaconport_synth::events_for_bench(7, n, now).iter().map(beaconport_proto::event_to_pb).collect();
    let raw: Vec<bytes::Bytes> = evs.iter().map(|e| bytes::Bytes::from(e.encode_to_vec())).collect();
    drop(evs);
    let ctx = beaconport_domain::Context { now };
    let only = std::env::args().nth(1).is_some();
    for _ in 0..(if only { 15 } else { 3 }) {
        if only {
            let mut k = 0;
            for chunk in raw.chunks(500) {
                let mut batch = beaconport_proto::WireBatch::new(chunk.len());
                for b in chunk {
                    batch.push(b, &ctx, &mut |d: beaconport_domain::Event| d.id);
                }
                k += batch.finish().unwrap().len();
            }
            assert!(k > 0);
            continue;
        }
        let t = Instant::now();
        let mut k = 0usize;
        for b in &raw {
            let e = beaconport_proto::pb::event::Event::decode(b.as_ref()).unwrap();
            k += e.event_id.len();
        }
        let d1 = t.elapsed().as_secs_f64() * 1e6 / n as f64;
        let t = Instant::now();
        for b in &raw {
            let e = beaconport_proto::pb::event::Event::decode(b.as_ref()).unwrap();
            k += e.encoded_len();
        }
        let d2 = t.elapsed().as_secs_f64() * 1e6 / n as f64;
        let t = Instant::now();
        for chunk in raw.chunks(500) {
            let mut batch = beaconport_proto::WireBatch::new(chunk.len());
            for b in chunk {
                batch.push(b, &ctx, &mut |d: beaconport_domain::Event| d.id);
            }
            k += batch.finish().unwrap().len();
        }
        let d3 = t.elapsed().as_secs_f64() * 1e6 / n as f64;
        println!("decode {d1:.2} us, +encoded_len {d2:.2} us, WireBatch {d3:.2} us ({k})");
    }
}
