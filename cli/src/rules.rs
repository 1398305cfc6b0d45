//! `kartka rules`: the business's notification rules, which the server runs.

use kartka_core::Store;
use kartka_core::crdt::business::SettingsEdit;
use kartka_core::model::{Channel, Rule, VisitStatus};
use uuid::Uuid;

use crate::args::{RuleArgs, RuleCmd, RuleEditArgs};
use crate::comms::template_id;
use crate::output::Out;
use crate::run::{CliError, input};

type Result<T> = std::result::Result<T, CliError>;

/// `90m`, `24h`, `30d` → minutes; `10:00` → minutes after midnight (birthdays).
fn offset(s: &str) -> Result<i64> {
    let s = s.trim();
    let bad = || {
        input(format!(
            "invalid offset \"{s}\": expected e.g. 90m, 24h, 30d or 10:00"
        ))
    };
    if let Some((h, m)) = s.split_once(':') {
        let (h, m): (i64, i64) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        return if (0..24).contains(&h) && (0..60).contains(&m) {
            Ok(h * 60 + m)
        } else {
            Err(bad())
        };
    }
    let (n, unit) = s.split_at(s.len().saturating_sub(1));
    let n: i64 = n.parse().map_err(|_| bad())?;
    match unit {
        "m" => Ok(n),
        "h" => Ok(n * 60),
        "d" => Ok(n * 1440),
        _ => Err(bad()),
    }
}

fn channels(v: &[String]) -> Result<Vec<Channel>> {
    Ok(v.iter()
        .map(|c| c.parse())
        .collect::<std::result::Result<_, _>>()?)
}

fn statuses(v: &[String]) -> Result<Vec<VisitStatus>> {
    Ok(v.iter()
        .map(|c| c.parse())
        .collect::<std::result::Result<_, _>>()?)
}

fn per_channel(store: &Store, v: &[String]) -> Result<Vec<(Channel, Uuid)>> {
    v.iter()
        .map(|pair| {
            let (c, t) = pair
                .split_once('=')
                .ok_or_else(|| input(format!("expected CHANNEL=TEMPLATE, got \"{pair}\"")))?;
            Ok((c.parse()?, template_id(store, t)?))
        })
        .collect()
}

fn find(store: &Store, s: &str) -> Result<Rule> {
    let rules = store.business()?.rules;
    let id = Uuid::parse_str(s.trim()).ok();
    rules
        .into_iter()
        .find(|r| Some(r.id) == id || r.name.eq_ignore_ascii_case(s.trim()))
        .ok_or_else(|| input(format!("no rule \"{s}\"")))
}

fn save(store: &mut Store, out: &Out, rule: Rule) -> Result<()> {
    let id = rule.id;
    store.edit_business(SettingsEdit::PutRule(rule))?;
    out.id(id);
    Ok(())
}

fn add(store: &mut Store, a: RuleArgs) -> Result<Rule> {
    Ok(Rule {
        id: Uuid::now_v7(),
        name: a.name,
        trigger: a.trigger,
        offset_min: offset(&a.offset)?,
        channels: channels(&a.channels)?,
        template_id: a
            .template
            .as_deref()
            .map(|t| template_id(store, t))
            .transpose()?,
        channel_templates: per_channel(store, &a.template_for)?,
        working_hours_only: !a.any_time,
        statuses: statuses(&a.statuses)?,
        enabled: true,
        staff: staff_targets(store, &a.to_staff)?,
    })
}

/// `--to-staff`: nothing (a client rule), `all`, or members by name or id.
fn staff_targets(store: &Store, given: &[String]) -> Result<Option<Vec<Uuid>>> {
    if given.is_empty() {
        return Ok(None);
    }
    if given.iter().any(|g| g.eq_ignore_ascii_case("all")) {
        return Ok(Some(Vec::new()));
    }
    given
        .iter()
        .map(|g| crate::staff::find(store, g))
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

fn edit(store: &Store, mut r: Rule, a: RuleEditArgs) -> Result<Rule> {
    if let Some(n) = a.name {
        r.name = n;
    }
    if let Some(o) = a.offset {
        r.offset_min = offset(&o)?;
    }
    if !a.channels.is_empty() {
        r.channels = channels(&a.channels)?;
    }
    if let Some(t) = a.template {
        r.template_id = Some(template_id(store, &t)?);
    }
    if !a.template_for.is_empty() {
        r.channel_templates = per_channel(store, &a.template_for)?;
    }
    if let Some(any) = a.any_time {
        r.working_hours_only = !any;
    }
    if !a.statuses.is_empty() {
        r.statuses = statuses(&a.statuses)?;
    }
    Ok(r)
}

pub fn run(store: &mut Store, out: &Out, cmd: RuleCmd) -> Result<()> {
    match cmd {
        RuleCmd::Add(a) => {
            let r = add(store, a)?;
            save(store, out, r)
        }
        RuleCmd::Edit { rule, args } => {
            let r = edit(store, find(store, &rule)?, args)?;
            save(store, out, r)
        }
        RuleCmd::Enable { rule } => {
            let r = Rule {
                enabled: true,
                ..find(store, &rule)?
            };
            save(store, out, r)
        }
        RuleCmd::Disable { rule } => {
            let r = Rule {
                enabled: false,
                ..find(store, &rule)?
            };
            save(store, out, r)
        }
        RuleCmd::Remove { rule } => {
            let id = find(store, &rule)?.id;
            store.edit_business(SettingsEdit::RemoveRule(id))?;
            out.done("removed", id);
            Ok(())
        }
        RuleCmd::List => {
            let rules = store.business()?.rules;
            if out.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&rules).expect("serialisable")
                );
            } else {
                for r in rules {
                    let chans: Vec<&str> = r.channels.iter().map(|c| c.as_str()).collect();
                    println!(
                        "{}  {}  {} {}m  [{}]{}{}",
                        r.id,
                        r.name,
                        r.trigger,
                        r.offset_min,
                        chans.join(","),
                        if r.working_hours_only {
                            ""
                        } else {
                            "  any time"
                        },
                        if r.enabled { "" } else { "  (off)" },
                    );
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn offsets() {
        assert_eq!(super::offset("90m").ok().unwrap(), 90);
        assert_eq!(super::offset("24h").ok().unwrap(), 1440);
        assert_eq!(super::offset("30d").ok().unwrap(), 43200);
        assert_eq!(super::offset("10:30").ok().unwrap(), 630);
        assert!(super::offset("soon").is_err());
        assert!(super::offset("25:00").is_err());
    }
}
