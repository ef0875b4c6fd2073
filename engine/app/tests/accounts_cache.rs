//! The account book replayed from the verified machine log is reused between requests
//! (a web server asks at each), but never past a change: an append (a disabling, from
//! this `Accounts` or another) is seen at the next question, and an edit of the log in
//! place is refused at the next question, as without the cache.

use std::sync::Arc;

use vigie_app::accounts::Accounts;
use vigie_app::{App, Operator};

const PASSWORD: &str = "correct horse battery staple";

fn app(dir: &std::path::Path) -> App {
    App::new(
        vigie_case::DataRoot::new(dir.to_owned()),
        Arc::new(vigie_audit::SystemClock),
    )
}

#[test]
fn changes_and_tampering_are_seen_at_the_next_question() {
    let home = tempfile::tempdir().unwrap();
    let app = app(home.path());
    let server = Accounts::open(&app).unwrap();
    server.add(None, "boss", true, PASSWORD).unwrap();
    let boss = Operator::new("boss").unwrap();
    server.add(Some(&boss), "inv1", false, PASSWORD).unwrap();
    for _ in 0..3 {
        assert!(!server.get("inv1").unwrap().unwrap().disabled);
    }

    // Disabled through another door (the CLI's process would open its own).
    Accounts::open(&app)
        .unwrap()
        .disable(&boss, "inv1")
        .unwrap();
    assert!(server.get("inv1").unwrap().unwrap().disabled);
    assert!(!server.can_enter("inv1", "any-case").unwrap());

    // The machine log edited in place, same length: refused at the next question.
    for _ in 0..3 {
        assert!(server.get("boss").unwrap().is_some());
    }
    let log = home.path().join("machine/audit.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    let forged = text.replacen("\"inv1\"", "\"inv2\"", 1);
    assert_eq!(forged.len(), text.len());
    assert_ne!(forged, text);
    std::fs::write(&log, forged).unwrap();
    let refused = server.get("boss").unwrap_err();
    assert_eq!(refused.class().exit_code(), 4, "{refused}");
    assert!(server.can_enter("boss", "any-case").is_err());
}
