//! Publishing over gRPC and reading back.

use std::collections::HashSet;

use beaconport_domain::EventKind;
use beaconport_proto::pb::api;
use beaconport_tests::{kind_of, one_of_each_kind, read_all, scenario_events, TestServer};
use futures::StreamExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_kind_round_trips() {
    let server = TestServer::start().await;
    let events = one_of_each_kind(11);
    assert_eq!(events.len(), EventKind::ALL.iter().filter(|k| k.publishable()).count());
    let mut c = server.ingest().await;
    let acks = c.publish(api::PublishRequest { events: events.clone() }).await.unwrap().into_inner().acks;
    assert_eq!(acks.len(), events.len());
    for (i, (a, e)) in acks.iter().zip(&events).enumerate() {
        assert_eq!(a.event_id, e.event_id);
        assert_eq!(a.position, Some(i as u64));
        assert!(!a.duplicate);
    }
    let back = read_all(&server.url).await;
    assert_eq!(back.len(), events.len());
    let mut kinds = HashSet::new();
    for (entry, sent) in back.iter().zip(&events) {
        assert_eq!(entry.event.as_ref(), Some(sent), "stored event differs from the one published");
        assert!(!entry.appended_at.is_empty());
        kinds.insert(kind_of(sent));
    }
    assert_eq!(kinds.len(), EventKind::ALL.iter().filter(|k| k.publishable()).count());
    // Lookup by id returns the same event.
    let mut r = server.reader().await;
    for (i, e) in events.iter().enumerate() {
        let got = r.get(api::GetRequest { event_id: e.event_id.clone() }).await.unwrap().into_inner();
        assert_eq!(got.position, i as u64);
        assert_eq!(got.event.as_ref(), Some(e));
    }
    let missing = r.get(api::GetRequest { event_id: uuid::Uuid::new_v4().to_string() }).await.unwrap_err();
    assert_eq!(missing.code(), tonic::Code::NotFound);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retried_batch_stores_no_duplicate() {
    let server = TestServer::start().await;
    let events: Vec<_> = scenario_events(12).into_iter().take(300).collect();
    let mut c = server.ingest().await;
    let first = c.publish(api::PublishRequest { events: events.clone() }).await.unwrap().into_inner().acks;
    for _ in 0..3 {
        let again = c.publish(api::PublishRequest { events: events.clone() }).await.unwrap().into_inner().acks;
        for (a, b) in first.iter().zip(&again) {
            assert_eq!(a.position, b.position);
            assert!(b.duplicate);
        }
    }
    let back = read_all(&server.url).await;
    assert_eq!(back.len(), 300);
    let ids: HashSet<_> = back.iter().map(|e| e.event.as_ref().unwrap().event_id.clone()).collect();
    assert_eq!(ids.len(), 300);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reused_id_with_different_content_is_refused() {
    let server = TestServer::start().await;
    let events: Vec<_> = scenario_events(13).into_iter().take(3).collect();
    let mut c = server.ingest().await;
    c.publish(api::PublishRequest { events: events.clone() }).await.unwrap();
    let mut changed = events[1].clone();
    changed.recorded_by = "sys-other-99".into();
    let err = c.publish(api::PublishRequest { events: vec![changed] }).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::AlreadyExists);
    assert!(err.message().contains(&events[1].event_id), "{}", err.message());
    assert_eq!(read_all(&server.url).await.len(), 3);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_with_one_bad_event_stores_nothing() {
    let server = TestServer::start().await;
    let mut events: Vec<_> = scenario_events(14).into_iter().take(50).collect();
    let good = events.clone();
    events[37].force_code = "ZZZ".into();
    let mut c = server.ingest().await;
    let err = c.publish(api::PublishRequest { events }).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert!(err.message().contains("force_code"), "{}", err.message());
    assert!(read_all(&server.url).await.is_empty(), "a rejected batch stored something");
    // The valid events are then accepted as new: nothing of the failed batch had been kept.
    let acks = c.publish(api::PublishRequest { events: good }).await.unwrap().into_inner().acks;
    assert!(acks.iter().all(|a| !a.duplicate));
    assert_eq!(acks.last().unwrap().position, Some(49));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_batches_are_acknowledged_in_order_and_rejections_are_in_band() {
    let server = TestServer::start().await;
    let events = scenario_events(15);
    let mut batches: Vec<api::PublishRequest> =
        events.chunks(100).take(6).map(|c| api::PublishRequest { events: c.to_vec() }).collect();
    let mut bad = batches[2].clone();
    bad.events[0].occurred_at = "yesterday".into();
    batches.insert(2, bad);
    let mut c = server.ingest().await;
    let n = batches.len();
    let responses: Vec<_> =
        c.publish_stream(tokio_stream::iter(batches.clone())).await.unwrap().into_inner().collect::<Vec<_>>().await;
    assert_eq!(responses.len(), n);
    let mut expected_pos = 0u64;
    for (i, r) in responses.into_iter().enumerate() {
        let r = r.unwrap();
        assert_eq!(r.sequence, i as u64);
        match r.result.unwrap() {
            api::publish_stream_response::Result::Accepted(acks) => {
                assert_ne!(i, 2);
                for a in acks.acks {
                    assert_eq!(a.position, Some(expected_pos));
                    expected_pos += 1;
                }
            }
            api::publish_stream_response::Result::Rejected(rej) => {
                assert_eq!(i, 2);
                assert_eq!(rej.violations[0].field, "occurred_at");
                assert_eq!(rej.violations[0].index, 0);
            }
        }
    }
    assert_eq!(read_all(&server.url).await.len() as u64, expected_pos);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_reflection_answer_generic_clients() {
    let server = TestServer::start().await;
    let ch = server.channel().await;
    let mut health = tonic_health::pb::health_client::HealthClient::new(ch.clone());
    for svc in ["beaconport.api.v1.IngestService", "beaconport.api.v1.LogService"] {
        let r = health.check(tonic_health::pb::HealthCheckRequest { service: svc.into() }).await.unwrap().into_inner();
        assert_eq!(r.status, tonic_health::pb::health_check_response::ServingStatus::Serving as i32, "{svc}");
    }
    use tonic_reflection::pb::v1::{
        server_reflection_client::ServerReflectionClient, server_reflection_request::MessageRequest,
        server_reflection_response::MessageResponse, ServerReflectionRequest,
    };
    let mut refl = ServerReflectionClient::new(ch);
    let req = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = refl.server_reflection_info(tokio_stream::iter(vec![req])).await.unwrap().into_inner();
    let resp = stream.next().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = resp.message_response else { panic!("no service list") };
    let names: HashSet<String> = list.service.into_iter().map(|s| s.name).collect();
    for want in ["beaconport.api.v1.IngestService", "beaconport.api.v1.LogService", "grpc.health.v1.Health"] {
        assert!(names.contains(want), "reflection lacks {want}: {names:?}");
    }
    // The event schema itself is reachable by symbol, so grpcurl can encode requests.
    let req = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::FileContainingSymbol("beaconport.event.v1.PersonRecorded".into())),
    };
    let mut stream = refl.server_reflection_info(tokio_stream::iter(vec![req])).await.unwrap().into_inner();
    let resp = stream.next().await.unwrap().unwrap();
    assert!(matches!(resp.message_response, Some(MessageResponse::FileDescriptorResponse(_))));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_stream_keeps_its_order_while_batches_share_appends() {
    let server = TestServer::start().await;
    let events: Vec<_> = scenario_events(16).into_iter().take(4000).collect();
    let batches: Vec<api::PublishRequest> =
        events.chunks(50).map(|c| api::PublishRequest { events: c.to_vec() }).collect();
    let mut c = server.ingest().await;
    let responses: Vec<_> =
        c.publish_stream(tokio_stream::iter(batches.clone())).await.unwrap().into_inner().collect::<Vec<_>>().await;
    assert_eq!(responses.len(), batches.len());
    // Positions rise in stream order. They need not be consecutive: the views write each
    // resolution model they estimate into the same log, between two appends.
    let mut next = 0u64;
    for (i, (r, b)) in responses.into_iter().zip(&batches).enumerate() {
        let r = r.unwrap();
        assert_eq!(r.sequence, i as u64);
        let Some(api::publish_stream_response::Result::Accepted(acks)) = r.result else { panic!("batch {i} refused") };
        assert_eq!(acks.acks.len(), b.events.len());
        for (a, e) in acks.acks.iter().zip(&b.events) {
            assert_eq!((a.event_id.as_str(), a.duplicate), (e.event_id.as_str(), false));
            let position = a.position.expect("the embedded log gives positions");
            assert!(position >= next, "batch {i}: {} at {position}, after {next}", e.event_id);
            next = position + 1;
        }
    }
    let back = read_all(&server.url).await;
    let sent: Vec<_> = events.iter().map(|e| e.event_id.clone()).collect();
    let sent_set: HashSet<&String> = sent.iter().collect();
    let (ids, others): (Vec<_>, Vec<_>) =
        back.iter().map(|e| e.event.as_ref().unwrap()).partition(|e| sent_set.contains(&e.event_id));
    let ids: Vec<_> = ids.into_iter().map(|e| e.event_id.clone()).collect();
    assert_eq!(ids, sent, "the log holds the stream's events in stream order");
    for e in others {
        assert_eq!(kind_of(e), EventKind::ResolutionModelEstimated, "only the ledger's own models are among them");
    }
    // Appends were shared: fewer commits than batches.
    let stats = server.log.stats().unwrap();
    assert!(stats.appends < batches.len() as u64, "{} appends for {} batches", stats.appends, batches.len());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflict_mid_stream_ends_it_after_answering_what_was_stored() {
    let server = TestServer::start().await;
    let events: Vec<_> = scenario_events(17).into_iter().take(300).collect();
    let mut batches: Vec<api::PublishRequest> =
        events.chunks(100).map(|c| api::PublishRequest { events: c.to_vec() }).collect();
    let mut reused = events[5].clone();
    reused.recorded_by = "sys-other-02".into();
    batches[2].events.push(reused);
    let mut c = server.ingest().await;
    let mut stream = c.publish_stream(tokio_stream::iter(batches)).await.unwrap().into_inner();
    for i in 0..2u64 {
        let r = stream.next().await.unwrap().unwrap();
        assert_eq!(r.sequence, i);
        assert!(matches!(r.result, Some(api::publish_stream_response::Result::Accepted(_))));
    }
    let end = stream.next().await.unwrap().unwrap_err();
    assert_eq!(end.code(), tonic::Code::AlreadyExists);
    assert!(stream.next().await.is_none());
    // The two good batches are stored, nothing of the third.
    assert_eq!(read_all(&server.url).await.len(), 200);
    server.stop().await;
}
