use proptest::prelude::*;

use super::*;

fn reference(target: f64, max_occupancy: Option<f64>, shrinkage: f64) -> Inputs {
    Inputs {
        calls_per_interval: 100.0,
        interval_minutes: 30.0,
        aht_seconds: 180.0,
        threshold_seconds: 20.0,
        target,
        max_occupancy,
        shrinkage,
    }
}

fn close(actual: f64, expected: f64, tolerance: f64) {
    assert!(
        (actual - expected).abs() <= tolerance,
        "{actual} is not within {tolerance} of {expected}"
    );
}

#[test]
fn reference_values_for_13_and_14_agents() {
    let a = intensity(100.0, 30.0, 180.0);
    close(a, 10.0, 1e-12);
    let p13 = performance(13, a, 180.0, 20.0);
    close(p13.probability_of_waiting, 0.2852705, 5e-8);
    close(p13.service_level, 0.79559, 5e-6);
    close(p13.asa_seconds.unwrap_or(f64::NAN), 17.116, 5e-4);
    let p14 = performance(14, a, 180.0, 20.0);
    close(p14.probability_of_waiting, 0.1741319, 5e-8);
    close(p14.service_level, 0.88835, 5e-6);
    close(p14.asa_seconds.unwrap_or(f64::NAN), 7.836, 5e-4);
}

#[test]
fn eighty_twenty_needs_14_then_20_scheduled_or_15_at_70_percent_occupancy() {
    let s = required(&reference(0.8, None, 0.0)).unwrap();
    assert_eq!((s.agents, s.scheduled_agents), (14, 14));
    close(s.service_level, 0.88835, 5e-6);
    close(s.occupancy, 10.0 / 14.0, 1e-12);
    let s = required(&reference(0.8, None, 0.3)).unwrap();
    assert_eq!((s.agents, s.scheduled_agents), (14, 20));
    let s = required(&reference(0.8, Some(0.7), 0.0)).unwrap();
    assert_eq!(s.agents, 15);
    assert!(s.occupancy <= 0.7);
}

#[test]
fn not_enough_agents_is_said_never_a_negative_wait() {
    for n in [0, 5, 9, 10] {
        let p = performance(n, 10.0, 180.0, 20.0);
        assert!(!p.enough_agents, "{n} agents");
        assert_eq!(p.asa_seconds, None);
        assert_eq!(p.probability_of_waiting, 1.0);
        assert_eq!(p.service_level, 0.0);
        assert!(p.occupancy <= 1.0);
    }
    assert_eq!(erlang_c(10, 10.0), None);
    assert!(performance(11, 10.0, 180.0, 20.0).enough_agents);
}

#[test]
fn no_traffic_needs_no_agents() {
    let mut inputs = reference(0.8, None, 0.3);
    inputs.calls_per_interval = 0.0;
    let s = required(&inputs).unwrap();
    assert_eq!((s.agents, s.scheduled_agents), (0, 0));
    assert_eq!(s.service_level, 1.0);
}

#[test]
fn thousands_of_agents_stay_finite_and_near_the_load() {
    // 5,000 Erlangs: the factorial formula overflowed long before this.
    let inputs = Inputs {
        calls_per_interval: 50_000.0,
        interval_minutes: 30.0,
        aht_seconds: 180.0,
        threshold_seconds: 20.0,
        target: 0.8,
        max_occupancy: None,
        shrinkage: 0.0,
    };
    let s = required(&inputs).unwrap();
    close(s.intensity_erlangs, 5000.0, 1e-9);
    // Square-root staffing: N ≈ A + β√A with β of order 1; economies of scale mean high occupancy.
    assert!(s.agents > 5000 && s.agents < 5000 + 3 * 71, "{}", s.agents);
    assert!(s.occupancy > 0.95 && s.occupancy < 1.0);
    assert!(s.service_level >= 0.8 && s.service_level.is_finite());
    let one_less = performance(s.agents - 1, 5000.0, 180.0, 20.0);
    assert!(one_less.service_level < 0.8);
    // 200,000 Erlangs still answers.
    let huge = required(&Inputs {
        calls_per_interval: 2_000_000.0,
        ..inputs
    })
    .unwrap();
    assert!(huge.agents > 200_000 && huge.agents < 202_000);
}

#[test]
fn erlang_b_matches_the_closed_form_where_that_is_computable() {
    // B(N, A) = (A^N / N!) / Σ_{k≤N} A^k / k!, fine for small N.
    for (n, a) in [(1u64, 0.5f64), (5, 3.0), (13, 10.0), (30, 22.5)] {
        let mut term = 1.0;
        let mut sum = 1.0;
        for k in 1..=n {
            term *= a / k as f64;
            sum += term;
        }
        close(erlang_b(n, a), term / sum, 1e-12);
    }
}

#[test]
fn too_much_traffic_is_an_error_naming_the_parameter() {
    let inputs = Inputs {
        calls_per_interval: 1e7,
        interval_minutes: 1.0,
        aht_seconds: 86_400.0,
        ..reference(0.8, None, 0.0)
    };
    let err = required(&inputs).unwrap_err();
    assert_eq!(err.code(), "too_much_traffic");
    assert_eq!(err.parameter(), Some("callsPerInterval"));
}

fn request(pairs: &[(&str, &str)]) -> Request {
    let mut r = Request::default();
    for (k, v) in pairs {
        let v = Some(v.to_string());
        match *k {
            "callsPerInterval" => r.calls_per_interval = v,
            "intervalMinutes" => r.interval_minutes = v,
            "ahtSeconds" => r.aht_seconds = v,
            "thresholdSeconds" => r.threshold_seconds = v,
            "target" => r.target = v,
            "maxOccupancy" => r.max_occupancy = v,
            "shrinkage" => r.shrinkage = v,
            "agents" => r.agents = v,
            "defaultAhtSeconds" => r.default_aht_seconds = v,
            "fallbackAhtSeconds" => r.fallback_aht_seconds = v,
            other => panic!("unknown test parameter {other}"),
        }
    }
    r
}

#[test]
fn requests_read_defaults_percentages_and_fractions() {
    let a = answer(&request(&[
        ("callsPerInterval", "100"),
        ("ahtSeconds", "180"),
    ]))
    .unwrap();
    assert_eq!(
        (
            a.inputs.interval_minutes,
            a.inputs.threshold_seconds,
            a.inputs.target,
            a.inputs.shrinkage
        ),
        (30.0, 20.0, 0.8, 0.0)
    );
    assert_eq!(a.staffing.agents, 14);
    for t in ["0.8", "80", "80%", " 80 % "] {
        let a = answer(&request(&[
            ("callsPerInterval", "100"),
            ("ahtSeconds", "180"),
            ("target", t),
        ]));
        close(a.unwrap().inputs.target, 0.8, 1e-12);
    }
    let a = answer(&request(&[
        ("callsPerInterval", "100"),
        ("ahtSeconds", "180"),
        ("shrinkage", "30%"),
        ("maxOccupancy", "70"),
    ]))
    .unwrap();
    assert_eq!((a.staffing.agents, a.staffing.scheduled_agents), (15, 22));
    let a = answer(&request(&[
        ("callsPerInterval", "100"),
        ("ahtSeconds", "180"),
        ("agents", "9"),
    ]))
    .unwrap();
    let w = a.with_agents.unwrap();
    assert!(!w.enough_agents);
    assert_eq!(w.asa_seconds, None);
}

#[test]
fn sources_say_where_arrivals_and_handle_time_came_from() {
    let mut r = request(&[("defaultAhtSeconds", "180")]);
    r.observed_arrivals = Some((100.0, 30.0));
    let a = answer(&r).unwrap();
    assert_eq!(
        a.sources,
        Sources {
            arrivals: "taskrouter",
            handle_time: "configured"
        }
    );
    assert_eq!(a.staffing.agents, 14);
    r.calls_per_interval = Some("50".into());
    r.aht_seconds = Some("180".into());
    let a = answer(&r).unwrap();
    assert_eq!(
        a.sources,
        Sources {
            arrivals: "request",
            handle_time: "request"
        }
    );
}

#[test]
fn measured_handle_time_comes_after_the_request_and_before_any_default() {
    let mut r = request(&[
        ("callsPerInterval", "100"),
        ("defaultAhtSeconds", "180"),
        ("fallbackAhtSeconds", "300"),
    ]);
    assert_eq!(
        (
            answer(&r).unwrap().inputs.aht_seconds,
            answer(&r).unwrap().sources.handle_time
        ),
        (300.0, "fallback")
    );
    r.measured_aht_seconds = Some(240.5);
    assert_eq!(
        (
            answer(&r).unwrap().inputs.aht_seconds,
            answer(&r).unwrap().sources.handle_time
        ),
        (240.5, "measured")
    );
    r.aht_seconds = Some("120".into());
    assert_eq!(
        (
            answer(&r).unwrap().inputs.aht_seconds,
            answer(&r).unwrap().sources.handle_time
        ),
        (120.0, "request")
    );
    // A measurement that is not a usable handle time is ignored.
    r.aht_seconds = None;
    r.measured_aht_seconds = Some(f64::NAN);
    assert_eq!(answer(&r).unwrap().sources.handle_time, "fallback");
    r.fallback_aht_seconds = Some("0".into());
    assert!(answer(&r).is_err());
}

#[test]
fn bad_parameters_are_named() {
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: &[Case] = &[
        (
            &[("ahtSeconds", "180")],
            "callsPerInterval",
            "missing_parameter",
        ),
        (
            &[("callsPerInterval", "100")],
            "ahtSeconds",
            "missing_parameter",
        ),
        (
            &[("callsPerInterval", "lots"), ("ahtSeconds", "180")],
            "callsPerInterval",
            "not_a_number",
        ),
        (
            &[("callsPerInterval", "-1"), ("ahtSeconds", "180")],
            "callsPerInterval",
            "out_of_range",
        ),
        (
            &[("callsPerInterval", "NaN"), ("ahtSeconds", "180")],
            "callsPerInterval",
            "not_a_number",
        ),
        (
            &[("callsPerInterval", "100"), ("ahtSeconds", "0")],
            "ahtSeconds",
            "out_of_range",
        ),
        (
            &[
                ("callsPerInterval", "100"),
                ("ahtSeconds", "180"),
                ("intervalMinutes", "0"),
            ],
            "intervalMinutes",
            "out_of_range",
        ),
        (
            // A tiny interval made the traffic infinite, and the error named callsPerInterval.
            &[
                ("callsPerInterval", "100"),
                ("ahtSeconds", "180"),
                ("intervalMinutes", "1e-300"),
            ],
            "intervalMinutes",
            "out_of_range",
        ),
        (
            &[
                ("callsPerInterval", "100"),
                ("ahtSeconds", "180"),
                ("intervalMinutes", "0.5"),
            ],
            "intervalMinutes",
            "out_of_range",
        ),
        (
            &[
                ("callsPerInterval", "100"),
                ("ahtSeconds", "180"),
                ("thresholdSeconds", "-5"),
            ],
            "thresholdSeconds",
            "out_of_range",
        ),
        (
            &[
                ("callsPerInterval", "100"),
                ("ahtSeconds", "180"),
                ("target", "100%"),
            ],
            "target",
            "out_of_range",
        ),
        (
            &[
                ("callsPerInterval", "100"),
                ("ahtSeconds", "180"),
                ("target", "1"),
            ],
            "target",
            "out_of_range",
        ),
        (
            &[
                ("callsPerInterval", "100"),
                ("ahtSeconds", "180"),
                ("target", "0"),
            ],
            "target",
            "out_of_range",
        ),
        (
            &[
                ("callsPerInterval", "100"),
                ("ahtSeconds", "180"),
                ("maxOccupancy", "120%"),
            ],
            "maxOccupancy",
            "out_of_range",
        ),
        (
            &[
                ("callsPerInterval", "100"),
                ("ahtSeconds", "180"),
                ("shrinkage", "95"),
            ],
            "shrinkage",
            "out_of_range",
        ),
        (
            &[
                ("callsPerInterval", "100"),
                ("ahtSeconds", "180"),
                ("agents", "2.5"),
            ],
            "agents",
            "out_of_range",
        ),
        (
            &[("callsPerInterval", "100"), ("defaultAhtSeconds", "x")],
            "STAFFING_DEFAULT_AHT_SECONDS",
            "not_a_number",
        ),
    ];
    for (pairs, parameter, code) in cases {
        let err = answer(&request(pairs)).unwrap_err();
        assert_eq!(
            (err.parameter(), err.code()),
            (Some(*parameter), *code),
            "{pairs:?}: {err}"
        );
        assert_eq!(err.status(), 400);
        assert!(err.to_string().contains(parameter), "{err}");
    }
}

proptest! {
    #[test]
    fn the_answer_is_the_smallest_staffing_meeting_every_constraint(
        calls in 0.0f64..20_000.0,
        interval in 1.0f64..120.0,
        aht in 10.0f64..1200.0,
        threshold in 0.0f64..300.0,
        target in 0.05f64..0.99,
        max_occ in proptest::option::of(0.3f64..1.0),
        shrinkage in 0.0f64..0.6,
    ) {
        let inputs = Inputs { calls_per_interval: calls, interval_minutes: interval, aht_seconds: aht,
            threshold_seconds: threshold, target, max_occupancy: max_occ, shrinkage };
        let s = required(&inputs).unwrap();
        let a = s.intensity_erlangs;
        prop_assert!(s.service_level >= target && s.service_level <= 1.0);
        prop_assert!((0.0..=1.0).contains(&s.probability_of_waiting));
        prop_assert!(s.asa_seconds >= 0.0 && s.asa_seconds.is_finite());
        prop_assert!(s.occupancy <= max_occ.unwrap_or(1.0) + 1e-9);
        prop_assert!(s.scheduled_agents >= s.agents);
        prop_assert!(s.scheduled_agents as f64 * (1.0 - shrinkage) >= s.agents as f64 - 1e-6);
        if a > 0.0 {
            prop_assert!(s.agents as f64 > a);
            // One agent fewer misses the target or the occupancy cap (or has no steady state).
            let fewer = performance(s.agents - 1, a, aht, threshold);
            let occ_ok = max_occ.is_none_or(|m| fewer.occupancy <= m && (s.agents - 1) as f64 >= a / m);
            prop_assert!(!fewer.enough_agents || fewer.service_level < target || !occ_ok);
        }
    }

    #[test]
    fn performance_never_panics_and_stays_in_range(agents in 0u64..5000, a in 0.0f64..5000.0, aht in 1.0f64..3600.0, t in 0.0f64..600.0) {
        let p = performance(agents, a, aht, t);
        prop_assert!((0.0..=1.0).contains(&p.service_level));
        prop_assert!((0.0..=1.0).contains(&p.probability_of_waiting));
        prop_assert!((0.0..=1.0).contains(&p.occupancy));
        prop_assert_eq!(p.enough_agents, agents as f64 > a || a == 0.0);
        if let Some(asa) = p.asa_seconds { prop_assert!(asa >= 0.0 && asa.is_finite()); }
    }

    #[test]
    fn any_text_is_an_answer_or_a_named_error(calls in ".{0,12}", aht in ".{0,12}", target in ".{0,8}", shrink in ".{0,8}") {
        let r = Request { calls_per_interval: Some(calls), aht_seconds: Some(aht), target: Some(target), shrinkage: Some(shrink), ..Request::default() };
        match answer(&r) {
            Ok(a) => prop_assert!(a.staffing.service_level >= a.inputs.target),
            Err(e) => prop_assert!(e.parameter().is_some()),
        }
    }
}

#[test]
fn a_queue_sid_is_checked_before_taskrouter_is_asked() {
    let sid = format!("WQ{}", "0a".repeat(16));
    assert_eq!(queue_sid(&format!(" {sid} ")), Ok(sid));
    for bad in [
        "",
        "WQ123",
        "WK0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a",
        "WQzz0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a",
    ] {
        let err = queue_sid(bad).unwrap_err();
        assert_eq!(
            (err.status(), err.parameter()),
            (400, Some("queueSid")),
            "{bad}"
        );
        assert!(err.to_string().contains("TaskQueue SID"));
    }
}
