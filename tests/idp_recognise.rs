//! The recogniser and the scenario library agree: every Okta scenario, read whole by the one recogniser
//! (`idp::recognise_capture`, as the recorder reads a capture) by the shape of its requests alone (method, path,
//! query as the IdP encodes it, body; no User-Agent), is never taken for Entra, and every Entra scenario never for
//! Okta. The request shapes the recogniser keys on and the requests the library replays cannot drift apart.

use scimcheck::idp::{self, CapturedRequest, Idp};
use scimcheck::profile::Profile;

#[test]
fn no_library_scenario_is_taken_for_the_other_idp() {
    let library = scimcheck::library::built_in().expect("the built-in library loads");
    let mut read = 0;
    let mut recognised = 0;
    let mut contradictions = Vec::new();
    for s in library.iter().filter(|s| s.idp != Idp::Rfc) {
        let queries: Vec<String> = s
            .steps
            .iter()
            .map(|step| {
                let mut profile = Profile::of(s.idp);
                profile.space = step.request.spaces.unwrap_or(profile.space);
                profile.encode_query(&step.request.query.0)
            })
            .collect();
        let requests = s.steps.iter().zip(&queries).map(|(step, query)| CapturedRequest {
            method: step.request.method.as_str(),
            path: &step.request.path,
            query,
            user_agent: None,
            adscim_version: false,
            body: step.request.body.clone(),
        });
        let verdict = idp::recognise_capture(requests, None);
        read += 1;
        recognised += usize::from(verdict.idp == s.idp);
        let other = if s.idp == Idp::Okta { Idp::Entra } else { Idp::Okta };
        if verdict.idp == other {
            contradictions.push(format!("{}: {:?}", s.id, verdict.evidence));
        }
    }
    assert!(read > 50, "the library's IdP scenarios were read: {read}");
    assert!(recognised * 2 > read, "most IdP scenarios are recognised by shape alone: {recognised} of {read}");
    assert!(contradictions.is_empty(), "scenarios taken for the other IdP:\n{}", contradictions.join("\n"));
}
