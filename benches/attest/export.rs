//! A deterministic cluster export: what `kubectl get taskruns,pipelineruns`
//! prints for a busy CI namespace set.
//!
//! PipelineRuns come with all their child TaskRuns (the
//! `tekton.dev/pipelineRun` label, an ownerReference with the parent's uid,
//! and the parent's `status.childReferences` agree); the rest are
//! standalone TaskRuns. Runs succeed, fail or are cancelled, and every one
//! has finished (its `Succeeded` condition is `True` or `False`). A TaskRun
//! is about 18 KB of kubectl YAML: 5 steps with 20-40-line scripts, 8
//! params, 6 results including IMAGE_URL/IMAGE_DIGEST and CHAINS-GIT_*,
//! labels, annotations, refSource and feature flags. A few strings take
//! the rarer paths of kubectl's YAML (scripts with trailing spaces or tabs
//! become folded double-quoted strings, long messages fold, leading spaces
//! need an indentation digit); unique uid, name, digests and times per run.

use serde_json::{Value, json};
use std::fmt::Write as _;

/// A small deterministic PRNG (SplitMix64): the export is a function of the seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn hex(&mut self, n: usize) -> String {
        let mut s = String::with_capacity(n + 16);
        while s.len() < n {
            write!(s, "{:016x}", self.next()).unwrap();
        }
        s.truncate(n);
        s
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }
    fn uid(&mut self) -> String {
        format!(
            "{}-{}-4{}-8{}-{}",
            self.hex(8),
            self.hex(4),
            self.hex(3),
            self.hex(3),
            self.hex(12)
        )
    }
}

const APPS: &[&str] = &[
    "orders-service",
    "web-frontend",
    "billing-api",
    "inventory",
    "user-profile",
    "search-indexer",
    "payments-gateway",
];
const PIPELINES: &[&str] = &[
    "build-test-push",
    "ci-main",
    "pr-validation",
    "release-pipeline",
];
const TASKS: &[&str] = &[
    "buildah",
    "kaniko",
    "build-image-oci",
    "go-test",
    "trivy-scan",
];
const PEOPLE: &[&str] = &["alice", "bob", "carol", "dave", "erin", "frank", "ivan"];
const STEPS: &[(&str, &str)] = &[
    ("git-clone", "cgr.dev/chainguard/git"),
    ("unit-test", "docker.io/library/golang"),
    ("build", "quay.io/buildah/stable"),
    ("push", "quay.io/buildah/stable"),
    ("sbom-scan", "docker.io/anchore/syft"),
];
const SCRIPT_LINES: &[&str] = &[
    "echo \"building $(params.IMAGE) from $(params.CONTEXT)\"",
    "test -z \"${PARAM_HTTPS_PROXY}\" || export HTTPS_PROXY=\"${PARAM_HTTPS_PROXY}\"",
    "git config --global http.sslVerify \"${PARAM_SSL_VERIFY}\"",
    "if [ -d \"${CHECKOUT_DIR}\" ] ; then",
    "  rm -rf \"${CHECKOUT_DIR:?}\"/*",
    "fi",
    "buildah bud --format=$(params.FORMAT) \\",
    "  --tls-verify=$(params.TLSVERIFY) -f $(params.DOCKERFILE) -t $(params.IMAGE) .",
    "go test ./... -coverprofile=/tmp/cover.out | tee /tmp/test.log",
    "COVERAGE=$(go tool cover -func=/tmp/cover.out | awk '/total:/ {print $3}')",
    "[ \"${COVERAGE%.*}\" -lt 80 ] && echo \"coverage below threshold\" >&2 && exit 1",
    "printf \"%s\" \"${RESULT_SHA}\" > \"$(results.CHAINS-GIT_COMMIT.path)\"",
    "syft scan \"registry:${IMAGE_REF}\" -o spdx-json=sbom.spdx.json",
    "jq '.packages | length' < /workspace/source/sbom.spdx.json",
    "cat > /workspace/source/summary.json <<EOF",
    "{\"image\": \"$(params.IMAGE)\", \"digest\": \"${DIGEST}\"}",
    "EOF",
    "sha256sum sbom.spdx.json | tee /tekton/home/sbom.sha256",
    "echo \"scan finished after $SECONDS seconds\"",
    "  echo \"retrying push (attempt ${attempt})\"; sleep 5",
    "ls -la /workspace/source/",
    "buildah push --digestfile /tmp/digest $(params.IMAGE)",
    "printf \"%s\" \"$(cat /tmp/digest)\" | tee $(results.IMAGE_DIGEST.path)",
];

/// How a run ended.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Succeeded,
    Failed,
    Cancelled,
}

impl Outcome {
    fn pick(rng: &mut Rng) -> Outcome {
        match rng.next() % 100 {
            0..=5 => Outcome::Failed,
            6..=8 => Outcome::Cancelled,
            _ => Outcome::Succeeded,
        }
    }
}

/// A PipelineRun with its child TaskRuns, or one standalone TaskRun.
pub struct Group {
    pub pipeline_run: Option<Value>,
    pub task_runs: Vec<Value>,
}

impl Group {
    pub fn len(&self) -> usize {
        self.task_runs.len() + usize::from(self.pipeline_run.is_some())
    }
}

/// Times of one run: created, started, finished (RFC 3339, UTC).
struct Clock {
    day: u64,
    seconds: u64,
}

impl Clock {
    fn at(&self, offset: u64) -> String {
        let s = self.seconds + offset;
        format!(
            "2026-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            1 + self.day / 28 % 12,
            1 + self.day % 28,
            s / 3600 % 24,
            s / 60 % 60,
            s % 60
        )
    }
}

/// The export's groups, `runs` objects in all (a PipelineRun that would
/// not fit with all its children is not started: standalone TaskRuns fill
/// the rest).
pub fn groups(seed: u64, runs: usize) -> impl Iterator<Item = Group> {
    let mut rng = Rng(seed);
    let mut made = 0usize;
    let mut index = 0usize;
    std::iter::from_fn(move || {
        if made >= runs {
            return None;
        }
        index += 1;
        let children = rng.range(2, 5) as usize;
        let group = if rng.chance(70) && made + children < runs {
            pipeline_group(&mut rng, index, children)
        } else {
            let outcome = Outcome::pick(&mut rng);
            let ctx = Context::new(&mut rng, index, None, outcome);
            Group {
                pipeline_run: None,
                task_runs: vec![task_run(&mut rng, &ctx)],
            }
        };
        made += group.len();
        Some(group)
    })
}

/// What a run shares with its siblings and parent.
struct Context {
    name: String,
    namespace: String,
    app: &'static str,
    task: &'static str,
    commit: String,
    git_url: String,
    clock: Clock,
    outcome: Outcome,
    /// The parent's name, uid and pipeline, and this child's task name.
    parent: Option<(String, String, &'static str, String)>,
}

impl Context {
    fn new(
        rng: &mut Rng,
        index: usize,
        parent: Option<(String, String, &'static str, String)>,
        outcome: Outcome,
    ) -> Context {
        let app = APPS[index % APPS.len()];
        let task = rng.pick(TASKS);
        Context {
            name: match &parent {
                Some((pr, _, _, pipeline_task)) => format!("{pr}-{pipeline_task}"),
                None => format!("{task}-run-{index:06}-{}", rng.hex(5)),
            },
            namespace: format!("{app}-ci"),
            app,
            task,
            commit: rng.hex(40),
            git_url: format!("https://github.com/example-org/{app}"),
            clock: Clock {
                day: index as u64 / 400,
                seconds: rng.range(0, 80_000),
            },
            outcome,
            parent,
        }
    }
}

fn pipeline_group(rng: &mut Rng, index: usize, children: usize) -> Group {
    let pipeline = rng.pick(PIPELINES);
    let name = format!("{pipeline}-run-{index:06}");
    let uid = rng.uid();
    let outcome = Outcome::pick(rng);
    let failing_child = rng.range(0, children as u64 - 1) as usize;
    let mut task_runs = Vec::with_capacity(children);
    let mut shared: Option<(String, String, u64)> = None;
    for c in 0..children {
        let child_outcome = match outcome {
            Outcome::Failed if c == failing_child => Outcome::Failed,
            Outcome::Failed | Outcome::Succeeded => Outcome::Succeeded,
            Outcome::Cancelled => Outcome::Cancelled,
        };
        let mut ctx = Context::new(
            rng,
            index,
            Some((name.clone(), uid.clone(), pipeline, format!("task-{c}"))),
            child_outcome,
        );
        // One source and one clock for the whole pipeline.
        match &shared {
            Some((commit, url, seconds)) => {
                ctx.commit = commit.clone();
                ctx.git_url = url.clone();
                ctx.clock.seconds = seconds + 300 * c as u64;
            }
            None => shared = Some((ctx.commit.clone(), ctx.git_url.clone(), ctx.clock.seconds)),
        }
        task_runs.push(task_run(rng, &ctx));
    }
    let (commit, git_url, seconds) = shared.expect("at least two children");
    let ctx = Context {
        name,
        namespace: task_runs[0]["metadata"]["namespace"]
            .as_str()
            .unwrap()
            .to_string(),
        app: APPS[index % APPS.len()],
        task: "",
        commit,
        git_url,
        clock: Clock {
            day: index as u64 / 400,
            seconds,
        },
        outcome,
        parent: Some((String::new(), uid, pipeline, String::new())),
    };
    let pipeline_run = pipeline_run(rng, &ctx, &task_runs);
    Group {
        pipeline_run: Some(pipeline_run),
        task_runs,
    }
}

fn condition(ctx: &Context, kind: &str, children: usize) -> Value {
    let (status, reason, message) = match (ctx.outcome, kind) {
        (Outcome::Succeeded, "TaskRun") => (
            "True",
            "Succeeded",
            "All Steps have completed executing".to_string(),
        ),
        (Outcome::Succeeded, _) => (
            "True",
            "Succeeded",
            format!("Tasks Completed: {children} (Failed: 0, Cancelled 0), Skipped: 0"),
        ),
        (Outcome::Failed, "TaskRun") => (
            "False",
            "Failed",
            format!(
                "\"step-build\" exited with code 1: Error building image {}; see the pod logs of {}-pod for the full build output",
                ctx.app, ctx.name
            ),
        ),
        (Outcome::Failed, _) => (
            "False",
            "Failed",
            format!("Tasks Completed: {children} (Failed: 1, Cancelled 0), Skipped: 0"),
        ),
        (Outcome::Cancelled, "TaskRun") => (
            "False",
            "TaskRunCancelled",
            format!(
                "TaskRun \"{}\" was cancelled. TaskRun cancelled as the PipelineRun it belongs to has been cancelled.",
                ctx.name
            ),
        ),
        (Outcome::Cancelled, _) => (
            "False",
            "Cancelled",
            format!("PipelineRun \"{}\" was cancelled", ctx.name),
        ),
    };
    json!({
        "lastTransitionTime": ctx.clock.at(900),
        "message": message,
        "reason": reason,
        "status": status,
        "type": "Succeeded",
    })
}

fn feature_flags() -> Value {
    json!({
        "awaitSidecarReadiness": true,
        "coschedule": "workspaces",
        "disableInlineSpec": "",
        "enableAPIFields": "beta",
        "enableProvenanceInStatus": true,
        "enableStepActions": true,
        "enforceNonfalsifiability": "none",
        "maxResultSize": 4096,
        "resultExtractionMethod": "termination-message",
        "runningInEnvWithInjectedSidecars": true,
        "verificationNoMatchPolicy": "ignore",
    })
}

fn script(rng: &mut Rng, step: &str, ctx: &Context) -> String {
    let mut s = String::from("#!/usr/bin/env bash\nset -euo pipefail\n");
    if rng.chance(1) {
        // A leading blank line: kubectl writes `|2`.
        s.insert(0, '\n');
    }
    for line in 2..rng.range(20, 40) {
        if line % 9 == 4 {
            let _ = writeln!(
                s,
                "echo \"{step} {line}: {}@{}\"",
                ctx.app,
                &ctx.commit[..7]
            );
        } else {
            let _ = writeln!(s, "{}", rng.pick(SCRIPT_LINES));
        }
    }
    if rng.chance(2) {
        // A trailing space on a line: kubectl folds the whole script into
        // a double-quoted string with \n escapes.
        s.push_str("echo done \n");
    } else if rng.chance(1) {
        s.push_str("printf 'a\\tb'\tdone\n");
    } else if rng.chance(1) {
        s.push('\n'); // ends with an empty line: `|+`
    }
    s
}

fn task_run(rng: &mut Rng, ctx: &Context) -> Value {
    let short = &ctx.commit[..7];
    let version = format!("1.{}.{}", rng.range(0, 40), rng.range(0, 99));
    let image = format!("registry.example.com/{}/{}", ctx.namespace, ctx.app);
    let digest = rng.hex(64);
    let pod = format!("{}-pod", ctx.name);
    let mut labels = json!({
        "app": ctx.app,
        "app.kubernetes.io/managed-by": "tekton-pipelines",
        "app.kubernetes.io/version": format!("0.{}", rng.range(1, 9)),
        "tekton.dev/task": ctx.task,
        "triggers.tekton.dev/eventlistener": format!("{}-listener", ctx.app),
        "triggers.tekton.dev/triggers-eventid": rng.uid(),
    });
    let mut metadata = json!({
        "annotations": {
            "pipeline.tekton.dev/release": "v1.0.0",
            "pipelinesascode.tekton.dev/branch": "main",
            "pipelinesascode.tekton.dev/pull-request": format!("{}", rng.range(100, 9999)),
            "pipelinesascode.tekton.dev/sender": rng.pick(PEOPLE),
            "pipelinesascode.tekton.dev/sha": ctx.commit,
            "results.tekton.dev/record": format!("{}/results/{}/records/{}", ctx.namespace, rng.uid(), rng.uid()),
            "tekton.dev/categories": "Image Build",
            "tekton.dev/displayName": format!("Build {} ({})", ctx.app, ctx.task),
            "tekton.dev/pipelines.minVersion": "0.50.0",
            "tekton.dev/platforms": "linux/amd64,linux/arm64,linux/s390x",
        },
        "creationTimestamp": ctx.clock.at(0),
        "finalizers": ["chains.tekton.dev/taskrun"],
        "generation": 1,
        "name": ctx.name,
        "namespace": ctx.namespace,
        "resourceVersion": format!("{}", rng.range(1_000_000, 99_999_999)),
        "uid": rng.uid(),
    });
    if let Some((pr, pr_uid, pipeline, pipeline_task)) = &ctx.parent {
        let l = labels.as_object_mut().unwrap();
        l.insert("tekton.dev/memberOf".into(), json!("tasks"));
        l.insert("tekton.dev/pipeline".into(), json!(pipeline));
        l.insert("tekton.dev/pipelineRun".into(), json!(pr));
        l.insert("tekton.dev/pipelineRunUID".into(), json!(pr_uid));
        l.insert("tekton.dev/pipelineTask".into(), json!(pipeline_task));
        metadata["ownerReferences"] = json!([{
            "apiVersion": "tekton.dev/v1",
            "blockOwnerDeletion": true,
            "controller": true,
            "kind": "PipelineRun",
            "name": pr,
            "uid": pr_uid,
        }]);
    }
    metadata["labels"] = labels;
    let params = json!([
        {"name": "IMAGE", "value": format!("{image}:{short}")},
        {"name": "CHAINS-GIT_URL", "value": ctx.git_url},
        {"name": "CHAINS-GIT_COMMIT", "value": ctx.commit},
        {"name": "DOCKERFILE", "value": "./Dockerfile"},
        {"name": "CONTEXT", "value": if rng.chance(50) { "." } else { "./src" }},
        {"name": "BUILD_ARGS", "value": [
            format!("VERSION={version}"),
            format!("GIT_SHA={short}"),
            format!("BUILD_DATE={}", ctx.clock.at(0)),
        ]},
        {"name": "BUILD_EXTRA_ARGS", "value": "--no-cache --pull=always"},
        {"name": "TLSVERIFY", "value": "true"},
    ]);
    let mut results = vec![
        json!({"name": "CHAINS-GIT_URL", "type": "string", "value": ctx.git_url}),
        json!({"name": "CHAINS-GIT_COMMIT", "type": "string", "value": ctx.commit}),
    ];
    if ctx.outcome == Outcome::Succeeded {
        results.insert(
            0,
            json!({"name": "IMAGE_URL", "type": "string", "value": format!("{image}:{short}")}),
        );
        results.insert(
            0,
            json!({"name": "IMAGE_DIGEST", "type": "string", "value": format!("sha256:{digest}")}),
        );
        results
            .push(json!({"name": "BUILD_TIMESTAMP", "type": "string", "value": ctx.clock.at(840)}));
        results.push(
            json!({"name": "TEST_OUTPUT", "type": "string", "value": format!(
                "{{\"passed\":{},\"failed\":0,\"coverage\":\"{}.{}\"}}",
                rng.range(100, 900), rng.range(60, 99), rng.range(0, 9)
            )}),
        );
    }
    let mut step_states = Vec::new();
    let mut steps = Vec::new();
    for (i, (step, tool)) in STEPS.iter().enumerate() {
        let tool_digest = rng.hex(64);
        let failed_here = ctx.outcome == Outcome::Failed && *step == "build";
        let (exit, reason) = if failed_here {
            (1, "Error")
        } else {
            (0, "Completed")
        };
        if ctx.outcome != Outcome::Cancelled || i < 2 {
            step_states.push(json!({
                "container": format!("step-{step}"),
                "imageID": format!("{tool}@sha256:{tool_digest}"),
                "name": step,
                "terminated": {
                    "containerID": format!("containerd://{}", rng.hex(64)),
                    "exitCode": exit,
                    "finishedAt": ctx.clock.at(120 * (i as u64 + 1)),
                    "reason": reason,
                    "startedAt": ctx.clock.at(120 * i as u64 + 5),
                },
                "terminationReason": reason,
            }));
        }
        steps.push(json!({
            "computeResources": {
                "limits": {"memory": "4Gi"},
                "requests": {"cpu": format!("{}m", 250 * rng.range(1, 4)), "memory": "512Mi"},
            },
            "env": [
                {"name": "HOME", "value": "/tekton/home"},
                {"name": "PARAM_SSL_VERIFY", "value": "$(params.TLSVERIFY)"},
            ],
            "image": format!("{tool}:latest@sha256:{tool_digest}"),
            "name": step,
            "script": script(rng, step, ctx),
            "workingDir": "$(workspaces.source.path)",
        }));
    }
    let spec_params = json!([
        {"description": "Reference of the image the task will produce.", "name": "IMAGE", "type": "string"},
        {"description": "Git repository URL of the source.", "name": "CHAINS-GIT_URL", "type": "string"},
        {"description": "Git commit SHA of the source.", "name": "CHAINS-GIT_COMMIT", "type": "string"},
        {"default": "./Dockerfile", "description": "Path to the Dockerfile to build.", "name": "DOCKERFILE", "type": "string"},
        {"default": ".", "description": "Path to the directory to use as context.", "name": "CONTEXT", "type": "string"},
        {"default": [], "description": "Dockerfile build arguments, array of key=value", "name": "BUILD_ARGS", "type": "array"},
        {"default": "", "description": "Extra parameters passed for the build command when building images.", "name": "BUILD_EXTRA_ARGS", "type": "string"},
        {"default": "true", "description": "Verify the TLS on the registry endpoint (for push/pull to a non-TLS registry)", "name": "TLSVERIFY", "type": "string"},
    ]);
    let spec_results = json!([
        {"description": "Digest of the image just built.", "name": "IMAGE_DIGEST", "type": "string"},
        {"description": "Image repository where the built image was pushed to", "name": "IMAGE_URL", "type": "string"},
        {"description": "The source repository URL.", "name": "CHAINS-GIT_URL", "type": "string"},
        {"description": "The precise commit SHA that was fetched by this Task.", "name": "CHAINS-GIT_COMMIT", "type": "string"},
        {"description": "Time at which the image build finished.", "name": "BUILD_TIMESTAMP", "type": "string"},
        {"description": "JSON summary of unit test results.", "name": "TEST_OUTPUT", "type": "string"},
    ]);
    let catalog = rng.hex(40);
    json!({
        "apiVersion": "tekton.dev/v1",
        "kind": "TaskRun",
        "metadata": metadata,
        "spec": {
            "params": params,
            "podTemplate": {"nodeSelector": {"kubernetes.io/arch": "amd64"}, "securityContext": {"fsGroup": 65532}},
            "serviceAccountName": "pipeline",
            "taskRef": {
                "params": [
                    {"name": "url", "value": "https://github.com/example-org/tekton-catalog.git"},
                    {"name": "revision", "value": catalog},
                    {"name": "pathInRepo", "value": format!("task/{}/0.2/{}.yaml", ctx.task, ctx.task)},
                ],
                "resolver": "git",
            },
            "timeout": "1h0m0s",
            "workspaces": [
                {"name": "source", "persistentVolumeClaim": {"claimName": format!("pvc-{}", rng.hex(10))}},
                {"name": "dockerconfig", "secret": {"secretName": format!("{}-registry-creds", ctx.namespace)}},
            ],
        },
        "status": {
            "completionTime": ctx.clock.at(900),
            "conditions": [condition(ctx, "TaskRun", 0)],
            "podName": pod,
            "provenance": {
                "featureFlags": feature_flags(),
                "refSource": {
                    "digest": {"sha1": catalog},
                    "entryPoint": format!("task/{}/0.2/{}.yaml", ctx.task, ctx.task),
                    "uri": "git+https://github.com/example-org/tekton-catalog.git",
                },
            },
            "results": results,
            "startTime": ctx.clock.at(1),
            "steps": step_states,
            "taskSpec": {
                "description": format!(
                    "{} builds source into a container image and then pushes it to a container registry (catalog version 0.2, task {}).",
                    ctx.task, ctx.task
                ),
                "params": spec_params,
                "results": spec_results,
                "steps": steps,
                "volumes": [{"emptyDir": {}, "name": "varlibcontainers"}],
                "workspaces": [
                    {"name": "source"},
                    {"name": "sslcertdir", "optional": true},
                    {"description": "An optional workspace that allows providing a .docker/config.json file for Buildah to access the container registry.", "name": "dockerconfig", "optional": true},
                ],
            },
        },
    })
}

fn pipeline_run(rng: &mut Rng, ctx: &Context, children: &[Value]) -> Value {
    let (_, uid, pipeline, _) = ctx.parent.as_ref().expect("a PipelineRun context");
    let child_refs: Vec<Value> = children
        .iter()
        .map(|c| {
            json!({
                "apiVersion": "tekton.dev/v1",
                "kind": "TaskRun",
                "name": c["metadata"]["name"],
                "pipelineTaskName": c["metadata"]["labels"]["tekton.dev/pipelineTask"],
            })
        })
        .collect();
    let tasks: Vec<Value> = children
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut t = json!({
                "name": c["metadata"]["labels"]["tekton.dev/pipelineTask"],
                "params": [
                    {"name": "IMAGE", "value": "$(params.IMAGE)"},
                    {"name": "CHAINS-GIT_URL", "value": "$(params.CHAINS-GIT_URL)"},
                    {"name": "CHAINS-GIT_COMMIT", "value": "$(params.CHAINS-GIT_COMMIT)"},
                ],
                "taskRef": {"kind": "Task", "name": c["metadata"]["labels"]["tekton.dev/task"]},
                "workspaces": [{"name": "source", "workspace": "shared"}],
            });
            if i > 0 {
                t["runAfter"] = json!([format!("task-{}", i - 1)]);
            }
            t
        })
        .collect();
    let mut results = vec![
        json!({"name": "CHAINS-GIT_URL", "value": ctx.git_url}),
        json!({"name": "CHAINS-GIT_COMMIT", "value": ctx.commit}),
    ];
    if ctx.outcome == Outcome::Succeeded {
        let first = &children[0]["status"]["results"];
        results.insert(0, first[1].clone());
        results.insert(0, first[0].clone());
        for r in &mut results {
            r.as_object_mut().unwrap().remove("type");
        }
    }
    let image = children[0]["spec"]["params"][0]["value"].clone();
    json!({
        "apiVersion": "tekton.dev/v1",
        "kind": "PipelineRun",
        "metadata": {
            "annotations": {"pipeline.tekton.dev/release": "v1.0.0"},
            "creationTimestamp": ctx.clock.at(0),
            "generation": 1,
            "labels": {
                "app.kubernetes.io/managed-by": "tekton-pipelines",
                "tekton.dev/pipeline": pipeline,
            },
            "name": ctx.name,
            "namespace": ctx.namespace,
            "resourceVersion": format!("{}", rng.range(1_000_000, 99_999_999)),
            "uid": uid,
        },
        "spec": {
            "params": [
                {"name": "IMAGE", "value": image},
                {"name": "CHAINS-GIT_URL", "value": ctx.git_url},
                {"name": "CHAINS-GIT_COMMIT", "value": ctx.commit},
            ],
            "pipelineRef": {"name": pipeline},
            "taskRunTemplate": {"serviceAccountName": "pipeline"},
            "timeouts": {"pipeline": "1h0m0s"},
            "workspaces": [{"name": "shared", "volumeClaimTemplate": {"spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}},
            }}}],
        },
        "status": {
            "childReferences": child_refs,
            "completionTime": ctx.clock.at(300 * children.len() as u64 + 900),
            "conditions": [condition(ctx, "PipelineRun", children.len())],
            "pipelineSpec": {
                "params": [
                    {"name": "IMAGE", "type": "string"},
                    {"name": "CHAINS-GIT_URL", "type": "string"},
                    {"name": "CHAINS-GIT_COMMIT", "type": "string"},
                ],
                "tasks": tasks,
                "workspaces": [{"name": "shared"}],
            },
            "provenance": {
                "featureFlags": feature_flags(),
            },
            "results": results,
            "startTime": ctx.clock.at(1),
        },
    })
}
