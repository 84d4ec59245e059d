//! Prints core's name tables as JSON: error kinds, event kinds, disconnect reasons, socket
//! options, engine settings and statistics, each entry `{"code": n, "name": "..."}` (errors also
//! carry their fixed description, statistics the objects that keep them). `python-tests/test_names.py` generates what every door must
//! declare from this output (docs/NAMES.md explains the spelling rules).
//!
//! `cargo run -q -p libsock --example names`

use libsock::engine::{
    ClientStats, ConfigKey, DatagramStats, DisconnectReason, EventKind, ServerStats, Stat,
};
use libsock::{ErrorKind, SockOpt};

fn table(entries: impl Iterator<Item = (i32, &'static str)>) -> String {
    let rows: Vec<String> = entries
        .map(|(code, name)| format!("{{\"code\": {code}, \"name\": \"{name}\"}}"))
        .collect();
    format!("[{}]", rows.join(", "))
}

fn main() {
    let errors: Vec<String> = ErrorKind::ALL
        .iter()
        .map(|k| {
            format!(
                "{{\"code\": {}, \"name\": \"{}\", \"description\": \"{}\"}}",
                k.code(),
                k.name(),
                k.description()
            )
        })
        .collect();
    println!("{{");
    println!("  \"errors\": [{}],", errors.join(", "));
    let events = table(EventKind::ALL.iter().map(|k| (k.code(), k.name())));
    println!("  \"events\": {events},");
    let reasons = table(DisconnectReason::ALL.iter().map(|r| (r.code(), r.name())));
    println!("  \"reasons\": {reasons},");
    let options = table(SockOpt::ALL.iter().map(|o| (o.number(), o.name())));
    println!("  \"options\": {options},");
    let keys = table(ConfigKey::ALL.iter().map(|k| (k.code(), k.name())));
    println!("  \"config_keys\": {keys},");
    // Which objects keep each statistic (the others give LS_ERR_UNSUPPORTED, or leave it out).
    let (server, client, dgram) = (
        ServerStats::default(),
        ClientStats::default(),
        DatagramStats::default(),
    );
    let stats: Vec<String> = Stat::ALL
        .iter()
        .map(|s| {
            let kept: Vec<String> = [
                ("server", server.get(*s).is_some()),
                ("client", client.get(*s).is_some()),
                ("datagram_server", dgram.get(*s).is_some()),
            ]
            .iter()
            .filter(|(_, k)| *k)
            .map(|(o, _)| format!("\"{o}\""))
            .collect();
            format!(
                "{{\"code\": {}, \"name\": \"{}\", \"kept_by\": [{}]}}",
                s.code(),
                s.name(),
                kept.join(", ")
            )
        })
        .collect();
    println!("  \"stats\": [{}]", stats.join(", "));
    println!("}}");
}
