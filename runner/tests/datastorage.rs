//! Where the audit cases read a deployed gateway's events: the banner names the DataStorage URL
//! and where it came from, or why there is none.

mod support;

use support::*;

fn banner_line(stderr: &str) -> String {
    let line = stderr.lines().find(|l| l.contains("datastorage:"));
    line.unwrap_or_else(|| panic!("no datastorage line in:\n{stderr}")).to_owned()
}

#[tokio::test]
async fn the_flag_names_the_datastorage_and_the_banner_says_so() {
    let url = fake_gateway(Behaviour::Garbage);
    let (_dir, junit) = junit_path();
    let junit = junit.to_str().unwrap_or_default();
    let args = ["audit::", "--gateway-url", &url, "--kube", "none", "--junit", junit];
    let output = run(&[&args[..], &["--datastorage-url", "http://127.0.0.1:9/"]].concat()).await;
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(banner_line(&stderr).contains("http://127.0.0.1:9 (from --datastorage-url)"), "{stderr}");
}

#[tokio::test]
async fn without_a_known_layout_there_is_none_and_the_banner_says_how_to_name_one() {
    let url = fake_gateway(Behaviour::Garbage);
    let (_dir, junit) = junit_path();
    let output =
        run(&["audit::", "--gateway-url", &url, "--kube", "none", "--junit", junit.to_str().unwrap_or_default()]).await;
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let line = banner_line(&stderr);
    assert!(line.contains("none known") && line.contains("--datastorage-url"), "{line}");
}

#[tokio::test]
async fn the_embedded_target_refuses_a_datastorage_of_its_own() {
    let output = run(&["--datastorage-url", "http://127.0.0.1:9"]).await;
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("applies to an external gateway"), "{stderr}");
}

/// A gateway at loopback port 8080 is Kind's host mapping: the DataStorage double is looked for
/// at port 18091 of the same host, used when its readiness answers, and named as missing when not.
#[tokio::test]
async fn the_kind_default_is_used_only_when_it_answers() {
    let health = fake_gateway(Behaviour::Garbage);
    let (_dir, junit) = junit_path();
    let junit = junit.to_str().unwrap_or_default();
    let ready = format!("{health}/readyz");
    let args = ["audit::", "--gateway-url", "http://127.0.0.1:8080", "--health-url", &ready, "--kube", "none"];
    let args = [&args[..], &["--metrics-url", &health, "--junit", junit]].concat();
    let listen = std::net::SocketAddr::from(([127, 0, 0, 1], 18091));
    let config = fixtures::datastorage::DataStorageConfig { listen: Some(listen), ..Default::default() };
    let Ok(datastorage) = fixtures::datastorage::start(config).await else {
        eprintln!("port 18091 is taken on this machine: only the refusal is checked");
        return;
    };
    let output = run(&args).await;
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let line = banner_line(&stderr);
    assert!(line.contains("http://127.0.0.1:18091 (default: Kind host port"), "{line}");
    datastorage.set_ready(false);
    let output = run(&args).await;
    let line = banner_line(&texts(&output).1);
    assert!(line.contains("none: http://127.0.0.1:18091/readyz answered 503"), "{line}");
    datastorage.shutdown().await;
    let output = run(&args).await;
    let line = banner_line(&texts(&output).1);
    assert!(line.contains("none: http://127.0.0.1:18091/readyz did not answer"), "{line}");
}
