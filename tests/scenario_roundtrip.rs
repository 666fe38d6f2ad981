//! One scenario model both ways: every scenario of the built-in library, written as a file
//! (`Scenario::to_file`) and loaded again under the same path, is the same scenario — so what the recorder
//! and any tool write with the scenario types is what the loader reads.

use scimcheck::scenario::{self, Query, Scenario};

fn reloaded(s: &Scenario) -> Scenario {
    let text = serde_json::to_string_pretty(&s.to_file()).expect("a scenario serialises");
    scenario::parse(&s.rel_path, &s.file, &text).unwrap_or_else(|e| panic!("{}: {e:?}\n{text}", s.id))
}

#[test]
fn every_library_scenario_round_trips_through_its_file() {
    let library = scimcheck::library::built_in().expect("the built-in library loads");
    assert!(library.len() > 100, "the whole library: {}", library.len());
    let with_query = library.iter().filter(|s| s.steps.iter().any(|st| !st.request.query.0.is_empty())).count();
    assert!(with_query > 10, "the library has steps with queries to round-trip: {with_query}");
    for s in &library {
        let again = reloaded(s);
        assert_eq!(&again, s, "{} changed through its file", s.id);
        let text = serde_json::to_string(&s.to_file()).unwrap();
        assert_eq!(serde_json::to_string(&again.to_file()).unwrap(), text, "{}", s.id);
    }
}

#[test]
fn a_query_is_written_as_the_object_it_is_read_from_in_its_order() {
    let q = Query(vec![("filter".into(), "userName eq \"a\"".into()), ("count".into(), "1".into())]);
    let text = serde_json::to_string(&q).unwrap();
    assert_eq!(text, r#"{"filter":"userName eq \"a\"","count":"1"}"#);
    let back: Query = serde_json::from_str(&text).unwrap();
    assert_eq!(back, q);
}
