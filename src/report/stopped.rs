//! A server that crashed in the middle of a run: every step after the crash fails with a transport error (the
//! connection refused or reset), and those errors are not the defect — the request that brought the server down
//! is. [`stopped`] finds it — the request whose connection was cut as the server went away, else the last step
//! that got an answer before the first refused connection — provided the server never answered again, so the
//! fix-first list ([`super::causes`]) shows one cause pointing at that request instead of a cause per
//! connection error.

use crate::exchange::TransportKind;
use crate::runner::{ScenarioResult, StepResult};

/// Where the server stopped answering.
#[derive(Debug, Clone, PartialEq)]
pub struct Stopped {
    /// The scenario of the step it stopped at or after.
    pub scenario: String,
    /// The step's number in its scenario (from 1).
    pub step: usize,
    /// The step's name.
    pub step_name: String,
    /// Its request line: method and path below the base URI (`PATCH /Users/2819c223…`).
    pub request: String,
    /// Whether the server went away while answering this step's request (its connection was cut before an
    /// answer came), rather than after answering it.
    pub during: bool,
    /// The first lost connection's order ([`crate::exchange::tick`]): steps that lost theirs from it on are the
    /// crash's.
    pub from: u64,
    /// Whether every later lost connection was refused (nothing listened any more), none reset.
    pub all_refused: bool,
    /// With `during`: the other requests whose connections were cut too (in flight when the server went away,
    /// run concurrently): any of them may be the one it died on.
    pub also_cut: usize,
}

impl Stopped {
    /// "the server stopped answering after `PATCH /Users/…` in scenario X step 3 "…"; every later step failed to
    /// connect", or "… at `PATCH …` … (its connection was cut before an answer); …" when the request was in flight.
    pub fn sentence(&self) -> String {
        let later = if self.all_refused {
            "every later step failed to connect"
        } else {
            "every later step failed to connect or had its connection reset"
        };
        let others = match self.also_cut {
            0 => String::new(),
            n => format!(", as were those of {n} other request(s) in flight, any of which may be the cause"),
        };
        let (word, cut) = if self.during {
            ("at", format!(" (its connection was cut before an answer{others})"))
        } else {
            ("after", String::new())
        };
        format!(
            "the server stopped answering {word} `{}` in scenario {} step {} \"{}\"{cut}; {later}",
            self.request, self.scenario, self.step, self.step_name
        )
    }

    /// Whether `step` failed because of the crash: it lost its connection at or after the first lost one.
    pub fn caused(&self, step: &StepResult) -> bool {
        lost(step) && step.ended.is_some_and(|t| t >= self.from)
    }
}

/// A step whose connection was refused or reset.
fn lost(step: &StepResult) -> bool {
    matches!(step.transport, Some(TransportKind::Connect | TransportKind::Reset))
}

/// Where the server of `results` stopped answering, when from some step on every connection was refused or reset
/// and no step was answered again. The step pointed at is the first of them when its connection was reset (the
/// request was in flight when the server went away: a request the server dies on, not answered and not sent again
/// since it is not idempotent), else the last step answered before it (its connection was refused: the server had
/// gone already). `None` when no connection was lost, the server answered again afterwards (a passing glitch, each
/// error its own cause), or there is no step to point at (nothing answered before a refused connection: the
/// preflight's case, a server never up).
pub fn stopped(results: &[ScenarioResult]) -> Option<Stopped> {
    let steps = || results.iter().flat_map(|r| r.steps.iter().enumerate().map(move |(i, s)| (r, i, s)));
    let (fr, fi, first) = steps().filter(|(_, _, s)| lost(s) && s.ended.is_some()).min_by_key(|(_, _, s)| s.ended)?;
    let from = first.ended?;
    let answered = || steps().filter(|(_, _, s)| s.response.is_some() && s.ended.is_some());
    if answered().any(|(_, _, s)| s.ended > Some(from)) {
        return None;
    }
    let during = first.transport == Some(TransportKind::Reset);
    let (r, i, s) = if during {
        (fr, fi, first)
    } else {
        answered().filter(|(_, _, s)| s.ended < Some(from)).max_by_key(|(_, _, s)| s.ended)?
    };
    let request = s.request.as_ref().map(|q| format!("{} {}", q.method.as_str(), q.path)).unwrap_or_default();
    let later = || steps().filter(|(_, _, s)| lost(s) && s.ended > Some(from));
    let all_refused = later().all(|(_, _, s)| s.transport == Some(TransportKind::Connect));
    let also_cut =
        if during { later().filter(|(_, _, s)| s.transport == Some(TransportKind::Reset)).count() } else { 0 };
    Some(Stopped {
        scenario: r.id.clone(),
        step: i + 1,
        step_name: s.name.clone(),
        request,
        during,
        from,
        all_refused,
        also_cut,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sentence_says_at_or_after_and_what_else_was_cut() {
        let at = Stopped {
            scenario: "rfc::x::y".into(),
            step: 3,
            step_name: "rename".into(),
            request: "PATCH /Users/1".into(),
            during: true,
            from: 7,
            all_refused: true,
            also_cut: 0,
        };
        assert_eq!(
            at.sentence(),
            "the server stopped answering at `PATCH /Users/1` in scenario rfc::x::y step 3 \"rename\" (its \
             connection was cut before an answer); every later step failed to connect"
        );
        let crowded = Stopped { also_cut: 2, all_refused: false, ..at.clone() };
        assert!(crowded.sentence().contains(
            "(its connection was cut before an answer, as were those of 2 other request(s) in flight, any of which \
             may be the cause); every later step failed to connect or had its connection reset"
        ));
        let after = Stopped { during: false, ..at };
        assert!(after.sentence().starts_with("the server stopped answering after `PATCH /Users/1` in scenario"));
        assert!(!after.sentence().contains("cut"));
    }
}
