//! Compiles `proto/` with the pure-Rust `protox` (no `protoc` needed), generates prost messages,
//! tonic services and proto3-JSON serde impls into `OUT_DIR`, and keeps the descriptor set for
//! gRPC server reflection.

use std::path::PathBuf;

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let files = [
        root.join("beaconport/event/v1/event.proto"),
        root.join("beaconport/api/v1/ingest.proto"),
        root.join("beaconport/api/v1/query.proto"),
        root.join("beaconport/api/v1/audit.proto"),
        root.join("beaconport/api/v1/review.proto"),
    ];
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
    }
    let fds = protox::compile(&files, [&root])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    let descriptor_bytes = fds.encode_to_vec();
    std::fs::write(out.join("beaconport_descriptor.bin"), &descriptor_bytes)?;

    tonic_prost_build::configure().build_client(true).build_server(true).compile_fds(fds)?;

    // The server's wire view of IngestService (see the file): events as raw bytes, zero-copy.
    let wire = root.join("beaconport/wire/ingest_wire.proto");
    println!("cargo:rerun-if-changed={}", wire.display());
    let wire_fds = protox::compile([&wire], [&root])?;
    let wire_out = out.join("wire");
    std::fs::create_dir_all(&wire_out)?;
    tonic_prost_build::configure()
        .build_client(false)
        .build_server(true)
        .bytes(".")
        .out_dir(&wire_out)
        .compile_fds(wire_fds)?;

    pbjson_build::Builder::new()
        .register_descriptors(&descriptor_bytes)?
        .preserve_proto_field_names()
        .build(&[".beaconport"])?;
    Ok(())
}
