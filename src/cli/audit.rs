//! `warroom audit verify` and `warroom audit export`: the tamper-evident trail
//! (`store::audit`) checked, or written out as evidence an auditor can check
//! without warroom (README, "Audit trail").

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, Utc};
use clap::Subcommand;

use crate::store::{AuditVerdict, Store};

#[derive(Subcommand)]
pub enum Audit {
    /// Seal what is recorded, recompute the chain and compare every entry with the
    /// row it covers. Exit 0 when intact; 1 naming the first entry changed,
    /// removed or reordered.
    Verify,
    /// Write the chain as JSON lines (one entry a line, then the head) between two
    /// times (RFC 3339 or YYYY-MM-DD, UTC).
    Export {
        #[arg(long)]
        since: Option<String>,
        #[arg(long)]
        until: Option<String>,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn time(arg: Option<&str>, what: &str) -> anyhow::Result<Option<DateTime<Utc>>> {
    let Some(raw) = arg else {
        return Ok(None);
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d").with_context(|| {
        format!("--{what} `{raw}` is not a time: use 2026-12-01 or 2026-12-01T20:00:00Z")
    })?;
    Ok(day.and_hms_opt(0, 0, 0).map(|t| t.and_utc()))
}

pub async fn run(store: &Store, audit: Audit) -> anyhow::Result<u8> {
    match audit {
        Audit::Verify => {
            store
                .seal_audit(Utc::now())
                .await
                .context("sealing the audit trail")?;
            match store
                .verify_audit()
                .await
                .context("reading the audit trail")?
            {
                AuditVerdict::Intact { entries, head } => {
                    println!("ok: the audit chain holds {entries} entries; head {head}");
                    Ok(0)
                }
                AuditVerdict::Broken { seq, what } => {
                    println!("broken at entry {seq}: {what}");
                    Ok(1)
                }
            }
        }
        Audit::Export { since, until, out } => {
            let since = time(since.as_deref(), "since")?;
            let until = time(until.as_deref(), "until")?;
            let entries = store
                .audit_entries(since, until)
                .await
                .context("reading the audit trail")?;
            let mut text = String::new();
            for e in &entries {
                text.push_str(&serde_json::to_string(e)?);
                text.push('\n');
            }
            let head = entries.last().map(|e| (e.seq, e.hash.clone()));
            text.push_str(&serde_json::to_string(&serde_json::json!({
                "head": head.map(|(seq, hash)| serde_json::json!({ "seq": seq, "hash": hash })),
                "entries": entries.len(),
            }))?);
            text.push('\n');
            match out {
                Some(path) => std::fs::write(&path, text)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => std::io::stdout().write_all(text.as_bytes())?,
            }
            Ok(0)
        }
    }
}
