//! ReviewService over gRPC: the planted fixture's queue, case pages, reviewers' steps recorded as
//! events (and a retried step never twice), quality and risk, every call recorded as a
//! consultation; the CLI's CSV export and the self-contained HTML report.

use std::collections::BTreeSet;

use beaconport_log::EventLog;
use beaconport_proto::pb::{api, event as pb};
use beaconport_tests::TestServer;
use tonic::Code;

fn ctx(purpose: &str, min_position: u64) -> Option<api::QueryContext> {
    Some(api::QueryContext { purpose: purpose.into(), min_position, wait_ms: 60_000, as_of: None })
}

async fn publish_fixture(server: &TestServer) -> (u64, beaconport_synth::ReviewAnswers) {
    let (events, answers) = beaconport_synth::review_fixture();
    let wire: Vec<pb::Event> = events.iter().map(beaconport_proto::event_to_pb).collect();
    let acks = server.ingest().await.publish(api::PublishRequest { events: wire }).await.unwrap().into_inner().acks;
    (acks.last().unwrap().position.expect("a position") + 1, answers)
}

async fn review_consultations(server: &TestServer) -> Vec<api::ConsultationEntry> {
    let mut q = server.query().await;
    loop {
        let s = q.view_status(api::ViewStatusRequest { digest: false, as_of: None }).await.unwrap().into_inner();
        if s.applied >= s.log_head {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let req = api::ListConsultationsRequest { page_size: 1000, ..Default::default() };
    let all = server.audit().await.list_consultations(req).await.unwrap().into_inner().consultations;
    all.into_iter().filter(|c| c.consultation.as_ref().is_some_and(|x| x.call.starts_with("ReviewService/"))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_review_api_finds_the_planted_answers_and_records_the_reviewers_steps() {
    let server = TestServer::start().await;
    let (head, answers) = publish_fixture(&server).await;
    let mut r = server.review().await;
    let mut calls = 0;

    // No purpose: refused, naming the field.
    let err = r.get_queue(api::GetQueueRequest::default()).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("context.purpose"), "{}", err.message());

    let queue = r
        .get_queue(api::GetQueueRequest { context: ctx("op fixture: queue", head), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    calls += 1;
    let keys: Vec<(String, String)> = queue.items.iter().map(|i| (i.force_code.clone(), i.case_ref.clone())).collect();
    assert_eq!(keys, answers.queue);
    assert_eq!(
        queue.items.iter().map(|i| i.rank).collect::<Vec<_>>(),
        (1..=answers.queue.len() as u32).collect::<Vec<_>>()
    );
    let rape = r
        .get_queue(api::GetQueueRequest {
            context: ctx("op fixture: rape first", 0),
            rape_only: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    calls += 1;
    assert_eq!(rape.total, 2);
    let bad_band = r
        .get_queue(api::GetQueueRequest { context: ctx("op fixture", 0), band: "urgent".into(), ..Default::default() })
        .await
        .unwrap_err();
    calls += 1;
    assert!(bad_band.message().contains("band"), "{}", bad_band.message());

    let a1 = r
        .get_review_case(api::GetReviewCaseRequest {
            context: ctx("op fixture: case", 0),
            force_code: "WMP".into(),
            case_ref: "WMP-FX-A1".into(),
        })
        .await
        .unwrap()
        .into_inner();
    calls += 1;
    assert!(a1.in_scope && a1.standard_group_based);
    let ids: BTreeSet<String> = a1.avenues.iter().map(|a| a.id.clone()).collect();
    assert_eq!(ids, answers.avenues[&("WMP".to_string(), "WMP-FX-A1".to_string())]);
    let b7 = r
        .get_review_case(api::GetReviewCaseRequest {
            context: ctx("op fixture: case", 0),
            force_code: "GMP".into(),
            case_ref: "GMP-FX-B7".into(),
        })
        .await
        .unwrap()
        .into_inner();
    calls += 1;
    assert!(!b7.in_scope);
    assert!(b7.out_of_scope.iter().any(|x| x.contains("independently reviewed")), "{:?}", b7.out_of_scope);

    // A step naming an avenue the case does not have: refused, nothing stored.
    let before = server.log.head().0;
    let step = |s: api::record_review_request::Step, id: &str| api::RecordReviewRequest {
        context: ctx("op fixture: record", 0),
        force_code: "WMP".into(),
        case_ref: "WMP-FX-A1".into(),
        event_id: id.into(),
        recorded_by: "rev-000007".into(),
        step: Some(s),
    };
    let err = r
        .record_review(step(
            api::record_review_request::Step::Actioned(pb::AvenueActioned {
                avenue: "victim_not_heard:V9".into(),
                action: pb::AvenueAction::Completed as i32,
                actioned_on: "2026-01-05".into(),
                note: String::new(),
            }),
            "",
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("actioned.avenue"), "{}", err.message());
    let since = server.log.read(beaconport_log::Position(before), 100).await.unwrap();
    assert!(
        since
            .iter()
            .all(|e| beaconport_tests::kind_of(&<pb::Event as prost::Message>::decode(e.payload.as_ref()).unwrap())
                == beaconport_domain::EventKind::ConsultationRecorded),
        "a refused step stores nothing but the record of the refusal"
    );

    let started = step(
        api::record_review_request::Step::Started(pb::ReviewStarted {
            programme: "National NFA review".into(),
            started_on: "2026-01-05".into(),
            note: String::new(),
        }),
        "0190aaaa-0000-7000-8000-000000000001",
    );
    let first = r.record_review(started.clone()).await.unwrap().into_inner();
    let again = r.record_review(started).await.unwrap().into_inner();
    calls += 2;
    assert!(!first.duplicate && again.duplicate && again.position == first.position, "{first:?} {again:?}");
    let acted = r
        .record_review(step(
            api::record_review_request::Step::Actioned(pb::AvenueActioned {
                avenue: "victim_not_heard:V2".into(),
                action: pb::AvenueAction::Completed as i32,
                actioned_on: "2026-01-05".into(),
                note: "account taken".into(),
            }),
            "0190aaaa-0000-7000-8000-000000000002",
        ))
        .await
        .unwrap()
        .into_inner();
    calls += 1;
    let page = r
        .get_review_case(api::GetReviewCaseRequest {
            context: ctx("op fixture: case", acted.position + 1),
            force_code: "WMP".into(),
            case_ref: "WMP-FX-A1".into(),
        })
        .await
        .unwrap()
        .into_inner();
    calls += 1;
    assert_eq!(page.status, "in review");
    assert_eq!(page.reviewer, "rev-000007");
    let v2 = page.avenues.iter().find(|a| a.id == "victim_not_heard:V2").unwrap();
    assert_eq!((v2.action.as_str(), v2.actioned_by.as_str()), ("completed", "rev-000007"));
    assert_eq!(page.item.as_ref().unwrap().open_avenues, 2);
    let concluded = r
        .record_review(step(
            api::record_review_request::Step::Concluded(pb::ReviewConcluded {
                conclusion: pb::ReviewConclusion::ReferredToProsecutor as i32,
                concluded_on: "2026-01-06".into(),
                summary: "file sent to the prosecutor".into(),
            }),
            "0190aaaa-0000-7000-8000-000000000003",
        ))
        .await
        .unwrap()
        .into_inner();
    calls += 1;
    let after = r
        .get_queue(api::GetQueueRequest {
            context: ctx("op fixture: queue", concluded.position + 1),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    calls += 1;
    assert_eq!(after.total as usize, answers.queue.len() - 1);
    assert!(after.items.iter().all(|i| i.case_ref != "WMP-FX-A1"));
    let done = r
        .get_queue(api::GetQueueRequest {
            context: ctx("op fixture", 0),
            status: "concluded".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    calls += 1;
    assert_eq!(done.items.iter().map(|i| i.case_ref.as_str()).collect::<Vec<_>>(), vec!["WMP-FX-A1"]);

    // Quality and risk.
    let q =
        r.get_quality(api::GetQualityRequest { context: ctx("op fixture: quality", 0) }).await.unwrap().into_inner();
    calls += 1;
    let wmp = q.forces.iter().find(|f| f.force_code == "WMP").unwrap();
    assert_eq!((wmp.precision, wmp.recall), (Some(0.5), Some(0.2)));
    assert_eq!(q.forces.iter().find(|f| f.force_code == "WYP").unwrap().precision, None);
    assert_eq!(q.inspectorate_flagged_share, 0.37);
    let flight = r
        .get_risk(api::GetRiskRequest {
            context: ctx("op fixture: risk", 0),
            list: "flight".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    calls += 1;
    assert_eq!(flight.total, 2);
    assert!(flight.items.iter().all(|i| !i.reasons.is_empty()));

    // Every admitted call recorded exactly once, what it disclosed with it.
    let recorded = review_consultations(&server).await;
    assert_eq!(recorded.len(), calls + 1, "the refused avenue step is recorded too");
    let queue_rec =
        recorded.iter().find(|c| c.consultation.as_ref().unwrap().call == "ReviewService/GetQueue").unwrap();
    assert!(queue_rec.consultation.as_ref().unwrap().disclosed_cases.contains(&"WMP/WMP-FX-A1".to_string()));

    // CSV export of the queue, and the report.
    let mut csv_out = Vec::new();
    beaconport_cli::reviewcmd::queue_csv(&mut csv_out, &queue.items).unwrap();
    let mut rows = csv::Reader::from_reader(csv_out.as_slice());
    let headers = rows.headers().unwrap().clone();
    assert_eq!(&headers[1], "force");
    let parsed: Vec<csv::StringRecord> = rows.records().map(|r| r.unwrap()).collect();
    assert_eq!(parsed.len(), answers.queue.len());
    assert_eq!((&parsed[0][1], &parsed[0][2]), ("WMP", "WMP-FX-A1"));
    let html = beaconport_cli::reviewcmd::fetch_and_render(&mut r, "op fixture: report", 0).await.unwrap();
    assert!(html.starts_with("<!doctype html>") && html.contains("<svg") && html.contains("GMP-FX-B1"));
    for external in ["<script", "src=", "href=", "@import", "url("] {
        assert!(!html.contains(external), "the report must be self-contained: found {external}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_new_events_the_queue_answers_from_the_last_review_and_catches_up() {
    let server = TestServer::start().await;
    let (head, _) = publish_fixture(&server).await;
    let mut r = server.review().await;
    let first = r
        .get_queue(api::GetQueueRequest { context: ctx("op fixture", head), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.items[0].status, "waiting");
    // A review step published by a force system (not through the review service).
    let step = pb::Event {
        event_id: "0190bbbb-0000-7000-8000-000000000001".into(),
        force_code: "WMP".into(),
        case_ref: "WMP-FX-A1".into(),
        occurred_at: "2026-01-05T10:00:00Z".into(),
        recorded_at: "2026-01-05T10:00:00Z".into(),
        schema_version: 1,
        recorded_by: "rev-000009".into(),
        body: Some(pb::Body {
            kind: Some(pb::body::Kind::ReviewStarted(pb::ReviewStarted {
                programme: "National NFA review".into(),
                started_on: "2026-01-05".into(),
                note: String::new(),
            })),
        }),
    };
    let at = server.ingest().await.publish(api::PublishRequest { events: vec![step] }).await.unwrap().into_inner().acks
        [0]
    .position
    .expect("a position");
    // Without min_position, an answer may come from the last review (and says which position it
    // is as of); it catches up without anyone asking for it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let page = r
            .get_queue(api::GetQueueRequest { context: ctx("op fixture", 0), ..Default::default() })
            .await
            .unwrap()
            .into_inner();
        let a1 = page.items.iter().find(|i| i.case_ref == "WMP-FX-A1").unwrap();
        if page.as_of_position <= at {
            assert_eq!(a1.status, "waiting", "an answer as of {} cannot show the step at {at}", page.as_of_position);
        }
        if a1.status == "in review" {
            assert!(page.as_of_position > at);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the review never caught up");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    server.stop().await;
}
