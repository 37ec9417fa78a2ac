use super::*;

/// One event in the documentation example's shape, with the fields the importer reads.
fn event(task: &str, family: &str, status: &str, times: &[(&str, &str)], extra: &str) -> String {
    let times: String = times.iter().map(|(k, v)| format!(r#""{k}": "{v}", "#)).collect();
    format!(
        r#"{{"version": "0", "id": "e-{task}-{status}", "detail-type": "ECS Task State Change", "source": "aws.ecs", "account": "111122223333", "time": "2020-01-23T17:57:58Z", "region": "us-west-2", "resources": ["arn:aws:ecs:us-west-2:111122223333:task/c/{task}"], "detail": {{ {times}{extra}"lastStatus": "{status}", "desiredStatus": "RUNNING", "taskArn": "arn:aws:ecs:us-west-2:111122223333:task/c/{task}", "taskDefinitionArn": "arn:aws:ecs:us-west-2:111122223333:task-definition/{family}:3", "containers": [{{"name": "app", "image": "111122223333.dkr.ecr.us-west-2.amazonaws.com/{family}:latest"}}], "version": 2}}}}"#
    )
}

const T0: &str = "2020-01-23T17:57:34.402Z";

#[test]
fn field_mapping_arrival_from_created_at_run_time_from_started_to_stopped_and_the_task_size() {
    let lines = [
        event("a", "web", "PENDING", &[("createdAt", T0)], r#""cpu": "256", "memory": "512", "#),
        event("a", "web", "RUNNING", &[("createdAt", T0), ("startedAt", "2020-01-23T17:57:40.402Z")], r#""cpu": "256", "memory": "512", "#),
        event(
            "a",
            "web",
            "STOPPED",
            &[("createdAt", T0), ("startedAt", "2020-01-23T17:57:40.402Z"), ("stoppedAt", "2020-01-23T18:07:40.902Z")],
            r#""cpu": "256", "memory": "512", "stopCode": "EssentialContainerExited", "#,
        ),
        // Ten seconds later a 1 vCPU / 2 GB worker, with its size from the task's overrides.
        event(
            "b",
            "worker",
            "STOPPED",
            &[
                ("createdAt", "2020-01-23T17:57:44.402Z"),
                ("startedAt", "2020-01-23T17:57:45.402Z"),
                ("stoppedAt", "2020-01-23T17:58:45.402Z"),
            ],
            r#""cpu": "256", "memory": "512", "overrides": {"cpu": "1 vCPU", "memory": "2 GB", "containerOverrides": []}, "#,
        ),
    ];
    let got = import(&lines.join("\n"), ImportOptions::default());
    assert_eq!(got.events, 4);
    assert!(got.skipped.is_empty(), "{:?}", got.skipped);
    assert_eq!(trace_csv(&got), "time_s,family,duration_s\n0,web,600.5\n10,worker,60\n");
    assert_eq!(
        got.families,
        vec![
            FamilySize {
                family: "web".into(),
                cpu: Some(256),
                memory_mib: Some(512),
                image: Some("111122223333.dkr.ecr.us-west-2.amazonaws.com/web:latest".into())
            },
            FamilySize {
                family: "worker".into(),
                cpu: Some(1024),
                memory_mib: Some(2048),
                image: Some("111122223333.dkr.ecr.us-west-2.amazonaws.com/worker:latest".into())
            },
        ]
    );
    let json = task_definition_json(&got.families[1]).unwrap();
    let td = crate::model::taskdef::TaskDefinition::from_json_str(&json, "worker.json").unwrap();
    assert_eq!((td.family.as_str(), td.reserved_cpu_units(), td.reserved_memory_mib()), ("worker", 1024, 2048));
}

#[test]
fn a_task_that_never_stopped_in_the_file_is_replayed_as_still_running_at_the_end() {
    let text = [
        event("a", "web", "RUNNING", &[("createdAt", T0), ("startedAt", "2020-01-23T17:57:40Z")], ""),
        // Still waiting for a host when the file ends: arrived, never ran, never stopped.
        event("b", "web", "PROVISIONING", &[("createdAt", "2020-01-23T17:58:34.402Z")], ""),
    ]
    .join("\n");
    let got = import(&text, ImportOptions { cpu: Some(512), memory_mib: Some(1024) });
    assert_eq!(got.still_running, 2);
    assert_eq!(trace_csv(&got), format!("time_s,family,duration_s\n0,web,{STILL_RUNNING_S}\n60,web,{STILL_RUNNING_S}\n"));
    // The defaults size the family whose events give no size.
    assert_eq!((got.families[0].cpu, got.families[0].memory_mib), (Some(512), Some(1024)));
}

#[test]
fn malformed_lines_are_reported_with_their_line_numbers_and_the_rest_is_kept() {
    let good = event("a", "web", "STOPPED", &[("createdAt", T0), ("startedAt", T0), ("stoppedAt", "2020-01-23T17:58:34.402Z")], "");
    let failed_start = event(
        "f",
        "web",
        "STOPPED",
        &[("createdAt", T0), ("stoppedAt", "2020-01-23T17:58:34.402Z")],
        r#""stopCode": "TaskFailedToStart", "stoppedReason": "CannotPullContainerError: pull access denied", "#,
    );
    let text = [
        good.as_str(),
        "{not json",
        "",
        r#"{"detail-type": "ECS Container Instance State Change", "detail": {}}"#,
        r#"{"detail-type": "ECS Task State Change", "detail": {"taskArn": "t"}}"#,
        &event("c", "web", "RUNNING", &[("createdAt", "yesterday")], ""),
        &failed_start,
        "[1, 2]",
    ]
    .join("\n");
    let got = import(&text, ImportOptions::default());
    let lines: Vec<usize> = got.skipped.iter().map(|s| s.line).collect();
    assert_eq!(lines, vec![2, 4, 5, 6, 7, 8], "{:#?}", got.skipped);
    let says = |line: usize, what: &str| {
        let s = got.skipped.iter().find(|s| s.line == line).unwrap();
        assert!(s.message.contains(what), "line {line}: {}", s.message);
    };
    says(2, "not JSON");
    says(4, "detail-type `ECS Container Instance State Change`");
    says(5, "taskDefinitionArn");
    says(6, "createdAt");
    says(7, "stopped before it ran (stopCode TaskFailedToStart: CannotPullContainerError");
    says(8, "not a JSON object");
    assert_eq!(trace_csv(&got), "time_s,family,duration_s\n0,web,60\n");
}

#[test]
fn a_json_array_of_events_is_read_and_its_elements_are_reported_by_line() {
    let good = event("a", "web", "STOPPED", &[("createdAt", T0), ("startedAt", T0), ("stoppedAt", "2020-01-23T17:58:34.402Z")], "");
    let text = format!("[\n  {good},\n  {{\"detail-type\": \"x\"}},\n  {good}\n]\n");
    let got = import(&text, ImportOptions::default());
    assert_eq!(got.events, 3);
    assert_eq!(got.skipped.iter().map(|s| s.line).collect::<Vec<_>>(), vec![3]);
    assert_eq!(got.tasks.len(), 1);
    let broken = import("[\n{\"a\": 1},\n{oops}\n]", ImportOptions::default());
    assert_eq!((broken.skipped.len(), broken.skipped[0].line), (1, 3), "{:?}", broken.skipped);
}

#[test]
fn a_family_seen_in_several_sizes_becomes_one_trace_family_per_size() {
    let a = event("a", "web", "RUNNING", &[("createdAt", T0), ("startedAt", T0)], r#""cpu": "256", "memory": "512", "#);
    let b = event("b", "web", "RUNNING", &[("createdAt", T0), ("startedAt", T0)], r#""cpu": "512", "memory": "1024", "#);
    let got = import(&format!("{a}\n{b}"), ImportOptions::default());
    let names: Vec<&str> = got.families.iter().map(|f| f.family.as_str()).collect();
    assert_eq!(names, vec!["web-256-512", "web-512-1024"]);
}
