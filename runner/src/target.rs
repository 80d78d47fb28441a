//! The system under test for this run: either the embedded gateway double (started in-process on
//! loopback, with its in-memory cluster and a DataStorage double it sends audit events to and
//! whose readiness it follows) or a deployed gateway, plus the Kubernetes client the cluster cases
//! read through.

use std::time::Duration;

use crate::account::{AccountError, SuiteAccount};
use crate::config::{KubeMode, RunConfig, Target};
use crate::layout;

/// How long building a Kubernetes client from kubeconfig may take.
const KUBE_CONFIG_DEADLINE: Duration = Duration::from_secs(10);
/// How long a defaulted DataStorage URL may take to answer its readiness route.
const DATASTORAGE_PROBE_DEADLINE: Duration = Duration::from_secs(3);

/// A resolved, reachable-or-not target.
pub struct Prepared {
    /// Gateway base URL.
    pub gateway_url: String,
    /// Readiness URL the gate polls (and the health cases read).
    pub health_url: String,
    /// Where `health_url` came from.
    pub health_source: String,
    /// Metrics URL.
    pub metrics_url: String,
    /// Where `metrics_url` came from.
    pub metrics_source: String,
    /// Kubernetes access for cluster cases.
    pub kube: Option<kube::Client>,
    /// One line describing cluster access.
    pub kube_description: String,
    /// The account the cases post signals as (its token, where it came from).
    pub account: SuiteAccount,
    /// DataStorage base URL the audit cases read events from (`None`: they skip).
    pub datastorage_url: Option<String>,
    /// Where `datastorage_url` came from, or why there is none.
    pub datastorage_source: String,
    /// The embedded double and its DataStorage, kept alive for the run.
    pub double: Option<Embedded>,
}

/// The embedded gateway double and the DataStorage double it sends audit events to.
pub struct Embedded {
    /// The gateway double.
    pub gateway: fixtures::double::RunningDouble,
    /// The DataStorage double (audit events, the gateway's DataStorage readiness).
    pub datastorage: fixtures::datastorage::RunningDataStorage,
}

impl Embedded {
    /// Stops the gateway (which sends its queued audit events), then DataStorage.
    pub async fn shutdown(self) {
        self.gateway.shutdown().await;
        self.datastorage.shutdown().await;
    }

    /// Starts DataStorage on loopback, then the gateway double pointed at it.
    async fn start(config: &RunConfig, kube: kube::Client) -> Result<Self, TargetError> {
        let datastorage = fixtures::datastorage::start(fixtures::datastorage::DataStorageConfig::default())
            .await
            .map_err(|e| TargetError::DataStorage(e.to_string()))?;
        let double_config = fixtures::double::DoubleConfig {
            faults: config.double_faults.clone().unwrap_or_default(),
            datastorage_ready_url: Some(datastorage.ready_url()),
            datastorage_url: Some(datastorage.url.clone()),
            ..Default::default()
        };
        match fixtures::double::start_with_client(double_config, kube).await {
            Ok(gateway) => Ok(Self { gateway, datastorage }),
            Err(e) => {
                datastorage.shutdown().await;
                Err(TargetError::Double(e.to_string()))
            }
        }
    }
}

/// Could not set up the target.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The embedded double did not start.
    #[error("could not start the embedded gateway double: {0}; pass --gateway-url to test a deployed gateway instead")]
    Double(String),
    /// The embedded DataStorage double did not start.
    #[error(
        "could not start the embedded DataStorage double: {0}; pass --gateway-url to test a deployed gateway instead"
    )]
    DataStorage(String),
    /// In-cluster credentials were asked for and are not there.
    #[error(
        "--kube in-cluster: no in-cluster credentials ({0}); run inside a pod with a service account, or use --kube auto"
    )]
    InCluster(String),
    /// The suite's account could not be made.
    #[error(transparent)]
    Account(#[from] AccountError),
}

/// Starts or describes the target named by `config`.
pub async fn prepare(config: &RunConfig) -> Result<Prepared, TargetError> {
    let namespace = fixtures::crd::CONTROLLER_NAMESPACE;
    let (gateway_url, kube, kube_description, account, double) = match &config.target {
        Target::Embedded => {
            // The embedded double runs with auth on, so the auth cases run too; the suite's
            // account is made in its in-memory cluster as it would be in a real one.
            let kube = fixtures::cluster::in_memory().await.map_err(|e| TargetError::Double(e.to_string()))?;
            let account = SuiteAccount::resolve(config.token.clone(), Some(&kube), namespace).await?;
            let embedded = Embedded::start(config, kube).await?;
            let double = &embedded.gateway;
            let kube_description = "cluster: in-memory (kube-fake-client)".to_owned();
            (double.url.clone(), Some(double.kube.clone()), kube_description, account, Some(embedded))
        }
        Target::External(url) => {
            let (kube, kube_description) = external_kube(config.kube).await?;
            let account = SuiteAccount::resolve(config.token.clone(), kube.as_ref(), namespace).await?;
            (url.clone(), kube, kube_description, account, None)
        }
    };
    let datastorage = double.as_ref().map(|embedded| layout::Sourced {
        url: embedded.datastorage.url.clone(),
        source: "the embedded DataStorage double: audit events, gateway readiness".into(),
    });
    let (datastorage_url, datastorage_source) = match datastorage {
        Some(own) => (Some(own.url), own.source),
        None => external_datastorage(config, &gateway_url).await,
    };
    let (health, metrics) = match double.as_ref().map(|embedded| &embedded.gateway) {
        // The double has its own health and metrics listeners, as a real Gateway.
        Some(double) => {
            let own = |flag: &Option<String>, name: &str, base: &str, path: &str| match flag {
                Some(url) => layout::Sourced { url: url.clone(), source: format!("from --{name}-url") },
                None => layout::Sourced {
                    url: format!("{base}{path}"),
                    source: format!("the embedded double's {name} listener"),
                },
            };
            (
                own(&config.health_url, "health", &double.health_url, layout::READY_PATH),
                own(&config.metrics_url, "metrics", &double.metrics_url, layout::METRICS_PATH),
            )
        }
        None => layout::sidecar_urls(&gateway_url, config.health_url.as_deref(), config.metrics_url.as_deref()),
    };
    Ok(Prepared {
        gateway_url,
        health_url: health.url,
        health_source: health.source,
        metrics_url: metrics.url,
        metrics_source: metrics.source,
        kube,
        kube_description,
        account,
        datastorage_url,
        datastorage_source,
        double,
    })
}

/// The DataStorage of an external gateway: the flag's, else the Kind layout's if it answers its
/// readiness route in time, else none (with why, for the banner).
async fn external_datastorage(config: &RunConfig, gateway_url: &str) -> (Option<String>, String) {
    if let Some((url, source)) = &config.datastorage_url {
        return (Some(url.clone()), (*source).to_owned());
    }
    let Some(guess) = layout::kind_datastorage_url(gateway_url) else {
        return (None, "none known for this gateway URL: audit cases skip; pass --datastorage-url".into());
    };
    let ready = format!("{}{}", guess.url, fixtures::datastorage::READY_PATH);
    match probe(&ready).await {
        Ok(()) => (Some(guess.url), guess.source),
        Err(problem) => {
            (None, format!("none: {ready} {problem}: audit cases skip; pass --datastorage-url to name one"))
        }
    }
}

/// One GET of a readiness URL, no redirects, bounded by [`DATASTORAGE_PROBE_DEADLINE`].
async fn probe(url: &str) -> Result<(), String> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(DATASTORAGE_PROBE_DEADLINE)
        .build()
        .map_err(|e| format!("could not be asked ({e})"))?;
    match client.get(url).send().await {
        Ok(answer) if answer.status().is_success() => Ok(()),
        Ok(answer) => Err(format!("answered {}", answer.status().as_u16())),
        Err(e) if e.is_timeout() => Err(format!("did not answer within {DATASTORAGE_PROBE_DEADLINE:?}")),
        Err(_) => Err("did not answer (connection failed)".into()),
    }
}

async fn external_kube(mode: KubeMode) -> Result<(Option<kube::Client>, String), TargetError> {
    match mode {
        KubeMode::None => Ok((None, "cluster: none (--kube none): cluster cases are skipped".into())),
        KubeMode::InCluster => {
            let config = kube::Config::incluster().map_err(|e| TargetError::InCluster(e.to_string()))?;
            let client = kube::Client::try_from(config).map_err(|e| TargetError::InCluster(e.to_string()))?;
            Ok((Some(client), "cluster: in-cluster service account".into()))
        }
        KubeMode::Auto => match tokio::time::timeout(KUBE_CONFIG_DEADLINE, kube::Client::try_default()).await {
            Ok(Ok(client)) => Ok((Some(client), "cluster: from kubeconfig / in-cluster environment".into())),
            Ok(Err(e)) => Ok((None, format!("cluster: none ({e}); cluster cases are skipped"))),
            Err(_) => Ok((
                None,
                format!(
                    "cluster: none (kubeconfig not loaded within {KUBE_CONFIG_DEADLINE:?}); cluster cases are skipped"
                ),
            )),
        },
    }
}
