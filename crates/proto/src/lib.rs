//! Generated protobuf code for the stored event format (`beaconport.event.v1`) and the gRPC API
//! (`beaconport.api.v1`), the conversions between them and the domain types, and the bytes stored
//! on the log.
//!
//! Must not depend on any log backend (sled, rdkafka) nor on the server.

#![allow(missing_debug_implementations)]

pub mod pb {
    //! Generated types. Refer to them as `pb::event::Event`, `pb::api::PublishRequest`.
    #![allow(clippy::all, clippy::pedantic, missing_docs)]
    pub mod beaconport {
        pub mod event {
            pub mod v1 {
                include!(concat!(env!("OUT_DIR"), "/beaconport.event.v1.rs"));
                include!(concat!(env!("OUT_DIR"), "/beaconport.event.v1.serde.rs"));
            }
        }
        pub mod api {
            pub mod v1 {
                include!(concat!(env!("OUT_DIR"), "/beaconport.api.v1.rs"));
                include!(concat!(env!("OUT_DIR"), "/beaconport.api.v1.serde.rs"));
            }
        }
    }
    pub use beaconport::api::v1 as api;

    /// The server's wire view of `IngestService`: events as raw bytes (see
    /// `proto/beaconport/wire/ingest_wire.proto`). Only the server uses it.
    pub mod wire {
        include!(concat!(env!("OUT_DIR"), "/wire/beaconport.api.v1.rs"));
    }
    pub use beaconport::event::v1 as event;
}

/// The file descriptor set of every proto file, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/beaconport_descriptor.bin"));

pub mod convert;
pub mod stored;

pub use convert::{
    decode_batch, decode_event, decode_stored, decode_stored_bytes, decode_wire_batch, event_to_pb, kind_of, WireBatch,
};
