//! Running the action the way the GitHub runner does: the environment built
//! from action.yml (`runs.env` with the inputs and their defaults), the
//! runner's GITHUB_* variables and file commands, and a mock GitHub API.
//! With ALLURE_HOST_IMAGE set, the same runs go through the container image
//! (`buildah run`, workspace at /github/workspace); otherwise the binary.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use serde_norway::Value as Yaml;

use super::mock::Mock;
use super::{allure_bin, allure3_home, moto, repo};

pub const TOKEN: &str = "gh-token";
pub const OIDC_REQUEST_TOKEN: &str = "oidc-request-token";

/// action.yml, parsed.
pub fn action_yml() -> &'static Yaml {
    static Y: OnceLock<Yaml> = OnceLock::new();
    Y.get_or_init(|| {
        serde_norway::from_str(&std::fs::read_to_string(repo().join("action.yml")).unwrap())
            .unwrap()
    })
}

pub fn inputs_of_action() -> Vec<(String, Yaml)> {
    action_yml()["inputs"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str().unwrap().to_string(), v.clone()))
        .collect()
}

pub fn outputs_of_action() -> Vec<String> {
    action_yml()["outputs"]
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap().to_string())
        .collect()
}

/// `runs.env` evaluated like the runner: `${{ inputs.x }}` takes the input
/// or its default; defaults may use the github and matrix contexts.
pub fn render_env(inputs: &BTreeMap<String, String>, matrix: &str) -> Vec<(String, String)> {
    let defaults: BTreeMap<String, String> = inputs_of_action()
        .into_iter()
        .map(|(k, v)| (k, v["default"].as_str().unwrap_or("").to_string()))
        .collect();
    let eval_default = |d: &str| match d {
        "${{ github.token }}" => TOKEN.to_string(),
        "${{ toJSON(matrix) }}" => matrix.to_string(),
        other => {
            assert!(
                !other.contains("${{"),
                "test runner cannot evaluate {other}"
            );
            other.to_string()
        }
    };
    action_yml()["runs"]["env"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let expr = v.as_str().unwrap();
            let name = expr
                .strip_prefix("${{ inputs.")
                .and_then(|s| s.strip_suffix(" }}"))
                .unwrap_or_else(|| panic!("unexpected env value {expr}"));
            let value = match inputs.get(name) {
                Some(v) => v.clone(),
                None => eval_default(&defaults[name]),
            };
            (k.as_str().unwrap().to_string(), value)
        })
        .collect()
}

/// The head commit of the pull request events `Step::pull_request` makes.
pub const PR_HEAD_SHA: &str = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00";

pub struct MockGitHub {
    pub url: String,
    pub artifacts: tempfile::TempDir,
    mock: Mock,
}

impl MockGitHub {
    /// `latency`: seconds added to every comment write, to widen races.
    pub fn start(latency: f64) -> Self {
        let artifacts = tempfile::tempdir().unwrap();
        let mock = Mock::start(
            "mock_github.py",
            &[
                "--artifacts",
                artifacts.path().to_str().unwrap(),
                "--latency",
                &latency.to_string(),
            ],
        );
        Self {
            url: mock.url.clone(),
            artifacts,
            mock,
        }
    }

    /// Add an artifact of this workflow run holding `files`.
    pub fn add_artifact(&self, name: &str, files: &[(&str, &[u8])]) {
        let path = self.artifacts.path().join(format!("{name}.zip"));
        let mut w = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
        for (f, body) in files {
            w.start_file(*f, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(body).unwrap();
        }
        w.finish().unwrap();
    }

    /// An artifact made of every file of `dir`.
    pub fn add_artifact_dir(&self, name: &str, dir: &Path) {
        let files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .map(|p| {
                let n = p.file_name().unwrap().to_str().unwrap().to_string();
                (n, std::fs::read(&p).unwrap())
            })
            .collect();
        let refs: Vec<(&str, &[u8])> = files
            .iter()
            .map(|(n, b)| (n.as_str(), b.as_slice()))
            .collect();
        self.add_artifact(name, &refs);
    }

    fn get(&self, path: &str) -> serde_json::Value {
        self.mock.call("GET", path, "")
    }

    pub fn requests(&self) -> Vec<serde_json::Value> {
        self.get("/_mock/requests").as_array().unwrap().clone()
    }

    pub fn comments(&self) -> Vec<serde_json::Value> {
        self.get("/_mock/comments").as_array().unwrap().clone()
    }

    pub fn check_runs(&self) -> Vec<serde_json::Value> {
        self.get("/_mock/check-runs").as_array().unwrap().clone()
    }
}

/// One action step: inputs, the runner's variables, a workspace.
pub struct Step {
    pub inputs: BTreeMap<String, String>,
    pub env: BTreeMap<String, String>,
    pub matrix: String,
    pub event: serde_json::Value,
    pub workspace: tempfile::TempDir,
    files: tempfile::TempDir,
}

pub struct Ran {
    pub output: Output,
    pub log: String,
    pub outputs: BTreeMap<String, String>,
    pub outputs_raw: String,
    pub summary: String,
}

impl Step {
    pub fn new(mock: &MockGitHub) -> Self {
        let mut env = BTreeMap::new();
        for (k, v) in [
            ("GITHUB_ACTIONS", "true"),
            ("CI", "true"),
            ("GITHUB_REPOSITORY", "octo/shop"),
            ("GITHUB_RUN_ID", "9001"),
            ("GITHUB_RUN_ATTEMPT", "1"),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_EVENT_NAME", "push"),
            ("GITHUB_REF", "refs/heads/main"),
            ("GITHUB_REF_NAME", "main"),
            ("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567"),
            ("GITHUB_JOB", "report"),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ] {
            env.insert(k.to_string(), v.to_string());
        }
        env.insert("GITHUB_API_URL".into(), mock.url.clone());
        let mut inputs = BTreeMap::new();
        inputs.insert("endpoint-url".to_string(), moto().to_string());
        inputs.insert("aws-region".to_string(), "us-east-1".to_string());
        Self {
            inputs,
            env,
            matrix: "null".into(),
            event: serde_json::json!({}),
            workspace: tempfile::tempdir().unwrap(),
            files: tempfile::tempdir().unwrap(),
        }
    }

    pub fn input(mut self, k: &str, v: &str) -> Self {
        self.inputs.insert(k.into(), v.into());
        self
    }

    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.insert(k.into(), v.into());
        self
    }

    pub fn without_env(mut self, k: &str) -> Self {
        self.env.remove(k);
        self
    }

    pub fn matrix(mut self, json: &str) -> Self {
        self.matrix = json.into();
        self
    }

    /// A pull_request event for PR `n` from branch `head`.
    pub fn pull_request(mut self, n: u64, head: &str) -> Self {
        self.env
            .insert("GITHUB_EVENT_NAME".into(), "pull_request".into());
        self.env
            .insert("GITHUB_REF".into(), format!("refs/pull/{n}/merge"));
        self.env
            .insert("GITHUB_REF_NAME".into(), format!("{n}/merge"));
        self.env.insert("GITHUB_HEAD_REF".into(), head.into());
        self.event = serde_json::json!({ "pull_request": {
            "number": n,
            "head": { "ref": head, "sha": PR_HEAD_SHA },
        } });
        self
    }

    /// The workspace's allure-results folder (created), to write results into.
    pub fn allure_results(&self) -> PathBuf {
        let dest = self.workspace.path().join("allure-results");
        std::fs::create_dir_all(&dest).unwrap();
        dest
    }

    /// Copy the example results into the workspace's allure-results.
    pub fn with_example_results(self) -> Self {
        super::example_results(&self.workspace.path().join("allure-results"));
        self
    }

    /// Set the status of example results by their file number
    /// (`("04", "failed")` changes `...000000000004-result.json`).
    pub fn with_statuses(self, statuses: &[(&str, &str)]) -> Self {
        super::set_statuses(&self.workspace.path().join("allure-results"), statuses);
        self
    }

    pub fn run(&self) -> Ran {
        let output = match std::env::var("ALLURE_HOST_IMAGE").ok() {
            Some(image) => self.run_container(&image, &self.runner_env(true)),
            None => self.command().output().expect("run allure-host action"),
        };
        let read =
            |name: &str| std::fs::read_to_string(self.files.path().join(name)).unwrap_or_default();
        let outputs_raw = read("output");
        Ran {
            log: format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
            output,
            outputs: parse_outputs(&outputs_raw),
            outputs_raw,
            summary: read("summary"),
        }
    }

    /// The environment the runner gives the step (paths as the container
    /// sees them when `in_image`).
    fn runner_env(&self, in_image: bool) -> Vec<(String, String)> {
        let (ws, files, workflow) = match in_image {
            true => (
                PathBuf::from("/github/workspace"),
                PathBuf::from("/github/file_commands"),
                PathBuf::from("/github/workflow"),
            ),
            false => (
                self.workspace.path().to_path_buf(),
                self.files.path().to_path_buf(),
                self.files.path().to_path_buf(),
            ),
        };
        std::fs::write(self.files.path().join("event.json"), self.event.to_string()).unwrap();
        let mut env: Vec<(String, String)> = self.env.clone().into_iter().collect();
        env.extend(render_env(&self.inputs, &self.matrix));
        env.push(("GITHUB_WORKSPACE".into(), ws.display().to_string()));
        env.push((
            "GITHUB_OUTPUT".into(),
            files.join("output").display().to_string(),
        ));
        env.push((
            "GITHUB_STEP_SUMMARY".into(),
            files.join("summary").display().to_string(),
        ));
        env.push((
            "GITHUB_EVENT_PATH".into(),
            workflow.join("event.json").display().to_string(),
        ));
        env
    }

    /// `allure-host action` as the runner starts it (the binary, not the
    /// image), to start and signal.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_allure-host"));
        cmd.arg("action")
            .current_dir(self.workspace.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", std::env::var("HOME").unwrap_or_default())
            .env("ALLURE_BIN", allure_bin())
            .env("ALLURE3_HOME", allure3_home())
            .envs(self.runner_env(false))
            .stdin(Stdio::null());
        cmd
    }

    fn run_container(&self, image: &str, env: &[(String, String)]) -> Output {
        let mounts = [
            (self.workspace.path(), "/github/workspace"),
            (self.files.path(), "/github/file_commands"),
            (self.files.path(), "/github/workflow"),
        ];
        in_image(image, "/github/workspace", &mounts, env)
            .arg("/entrypoint.sh")
            .output()
            .expect("buildah run")
    }
}

/// A command run in the image's container (as the runner runs it: host
/// folders mounted, the environment given); the caller adds the argv.
pub fn in_image(
    image: &str,
    workdir: &str,
    mounts: &[(&Path, &str)],
    env: &[(String, String)],
) -> Command {
    let mut cmd = Command::new("buildah");
    cmd.args(["--storage-driver", "vfs", "run", "--isolation", "chroot"])
        .args(["--workingdir", workdir]);
    for (host, inside) in mounts {
        cmd.arg("-v").arg(format!("{}:{inside}", host.display()));
    }
    for (k, v) in env {
        cmd.arg("--env").arg(format!("{k}={v}"));
    }
    cmd.arg(container(image)).arg("--").stdin(Stdio::null());
    cmd
}

/// One working container of the image, shared by the runs of this process.
fn container(image: &str) -> &'static str {
    static CTR: OnceLock<String> = OnceLock::new();
    CTR.get_or_init(|| {
        let out = Command::new("buildah")
            .args(["--storage-driver", "vfs", "from", image])
            .output()
            .unwrap();
        assert!(out.status.success(), "buildah from {image}: {out:?}");
        let name = String::from_utf8(out.stdout).unwrap().trim().to_string();
        // Removed when this test process exits.
        let script = format!(
            "while kill -0 {} 2>/dev/null; do sleep 1; done; buildah --storage-driver vfs rm {name} >/dev/null 2>&1",
            std::process::id()
        );
        let w = Command::new("sh").args(["-c", &script]).spawn().unwrap();
        std::mem::forget(w);
        name
    })
}

/// Parse `name<<DELIM\nvalue\nDELIM\n` entries, checking each delimiter.
pub fn parse_outputs(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(head) = lines.next() {
        let (name, delim) = head.split_once("<<").expect("name<<DELIM");
        let mut value = Vec::new();
        loop {
            let line = lines.next().expect("unterminated output");
            if line == delim {
                break;
            }
            value.push(line);
        }
        out.insert(name.to_string(), value.join("\n"));
    }
    out
}
