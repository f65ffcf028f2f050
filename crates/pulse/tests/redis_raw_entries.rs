//! The Redis backend at the byte level, checked with the redis crate itself: entries that are
//! not ours (a `payload` field, non-UTF-8 `data`, a field named like dead-letter metadata)
//! are dead-lettered with their fields byte for byte and replayed byte-identical; a backlog
//! is counted right where `XINFO GROUPS` reports no `lag`.

mod support;

use std::num::NonZeroUsize;

use core_contracts::FeedbackEvent;
use pulse::Backlog;
use support::{Harness, event, redis_url};

type RawFields = Vec<Vec<u8>>;

fn connection() -> redis::Connection {
    redis::Client::open(redis_url().as_str())
        .and_then(|c| c.get_connection())
        .expect("redis connects")
}

/// Every entry of `key` as `(id, [name, value, name, value, ...])`, bytes as stored.
fn xrange(conn: &mut redis::Connection, key: &str) -> Vec<(String, RawFields)> {
    redis::cmd("XRANGE")
        .arg(key)
        .arg("-")
        .arg("+")
        .query(conn)
        .expect("XRANGE")
}

fn xadd(conn: &mut redis::Connection, key: &str, fields: &[(&[u8], &[u8])]) -> String {
    let mut cmd = redis::cmd("XADD");
    cmd.arg(key).arg("*");
    for (name, value) in fields {
        cmd.arg(*name).arg(*value);
    }
    cmd.query(conn).expect("XADD")
}

fn flat(fields: &[(&[u8], &[u8])]) -> RawFields {
    fields
        .iter()
        .flat_map(|(n, v)| [n.to_vec(), v.to_vec()])
        .collect()
}

#[tokio::test]
async fn foreign_entries_are_dead_lettered_and_replayed_byte_for_byte() {
    let Some(h) = Harness::redis().await else {
        return;
    };
    let pulse = h.pulse();
    let stream = pulse.stream("marketdata.bars");
    let mut sub = pulse
        .subscribe::<FeedbackEvent>("marketdata.bars", "store", "c1")
        .await
        .expect("subscribes");
    let mut conn = connection();
    let originals: Vec<Vec<(&[u8], &[u8])>> = vec![
        vec![(b"payload", b"{\"symbol\":\"AAPL\"}")],
        vec![(b"data", &[0xff, 0xfe, b'{', 0x00, 0xc3])],
        vec![(b"reason", b"upstream"), (b"data", b"not json")],
    ];
    let ids: Vec<String> = originals
        .iter()
        .map(|fields| xadd(&mut conn, stream.key(), fields))
        .collect();
    pulse
        .publish("marketdata.bars", &event(1), None)
        .await
        .expect("publishes");
    assert_eq!(
        sub.next()
            .await
            .expect("delivered")
            .envelope
            .payload
            .queue_size,
        1,
        "the valid entry after the foreign ones is delivered"
    );

    let dead = xrange(&mut conn, &stream.dlq_key());
    assert_eq!(dead.len(), originals.len());
    for ((_, fields), (id, original)) in dead.iter().zip(ids.iter().zip(&originals)) {
        assert_eq!(
            fields[0..2],
            [b"original_id".to_vec(), id.as_bytes().to_vec()]
        );
        assert_eq!(fields[2], b"reason".to_vec());
        assert!(fields[3].starts_with(b"malformed"), "{:?}", fields[3]);
        assert_eq!(fields[4..6], [b"deliveries".to_vec(), b"1".to_vec()]);
        let escaped: Vec<(&[u8], &[u8])> = original
            .iter()
            .map(|(n, v)| match *n {
                b"reason" => (b"original.reason".as_slice(), *v),
                _ => (*n, *v),
            })
            .collect();
        assert_eq!(fields[6..], flat(&escaped), "original fields verbatim");
    }

    let before = xrange(&mut conn, stream.key()).len();
    assert_eq!(
        pulse
            .replay_dead_letters("marketdata.bars", 10)
            .await
            .expect("replays"),
        3
    );
    let entries = xrange(&mut conn, stream.key());
    let replayed: Vec<RawFields> = entries[before..].iter().map(|(_, f)| f.clone()).collect();
    let expected: Vec<RawFields> = originals.iter().map(|f| flat(f)).collect();
    assert_eq!(replayed, expected, "replayed byte-identical");
    assert!(xrange(&mut conn, &stream.dlq_key()).is_empty());
}

#[tokio::test]
async fn a_failed_foreign_entry_keeps_every_field_in_the_dead_letter_stream() {
    let Some(h) = Harness::redis().await else {
        return;
    };
    let pulse = h.pulse_with(|c| c.max_deliveries = std::num::NonZeroU32::MIN);
    let stream = pulse.stream("marketdata.bars");
    let mut sub = pulse
        .subscribe::<FeedbackEvent>("marketdata.bars", "store", "c1")
        .await
        .expect("subscribes");
    let data = serde_json::to_vec(&pulse.seal(&event(2), None).expect("seals")).expect("encodes");
    let mut conn = connection();
    let original: Vec<(&[u8], &[u8])> = vec![(b"data", &data), (b"trace", &[0x00, 0xff])];
    let id = xadd(&mut conn, stream.key(), &original);
    let d = sub.next().await.expect("delivered");
    sub.fail(&d, "boom").await.expect("fails");
    let dead = xrange(&mut conn, &stream.dlq_key());
    let mut expected = flat(&[
        (b"original_id", id.as_bytes()),
        (b"reason", b"boom"),
        (b"deliveries", b"1"),
    ]);
    expected.extend(flat(&original));
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].1, expected);
}

#[tokio::test]
async fn a_backlog_is_counted_where_redis_reports_no_lag() {
    let Some(h) = Harness::redis().await else {
        return;
    };
    let pulse = h.pulse_with(|c| c.read_count = NonZeroUsize::MIN);
    let stream = pulse.stream("marketdata.bars");
    let mut conn = connection();
    let ids: Vec<String> = (0..6u64)
        .map(|i| {
            let data =
                serde_json::to_vec(&pulse.seal(&event(i), None).expect("seals")).expect("encodes");
            xadd(&mut conn, stream.key(), &[(b"data", &data)])
        })
        .collect();
    // A deletion inside the stream leaves Redis unable to tell a new group's lag.
    let _: i64 = redis::cmd("XDEL")
        .arg(stream.key())
        .arg(&ids[1])
        .query(&mut conn)
        .expect("XDEL");
    let mut sub = pulse
        .subscribe::<FeedbackEvent>("marketdata.bars", "store", "c1")
        .await
        .expect("subscribes");
    assert_eq!(sub.try_next_batch().await.expect("reads").len(), 1);
    assert_eq!(
        pulse
            .backlog("marketdata.bars", "store")
            .await
            .expect("backlog"),
        Backlog {
            undelivered: 4,
            pending: 1
        }
    );
}
