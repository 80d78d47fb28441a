//! Where a gateway's readiness and metrics listeners are, given the URL of its API listener: a
//! real Kubernaut Gateway serves signals, health and metrics on three ports (contract §1). The
//! defaults follow the two layouts the project deploys; a flag always wins, and the banner says
//! which rule gave each URL.

/// Readiness path on the health listener (the gate polls it).
pub const READY_PATH: &str = "/readyz";
/// Metrics path on the metrics listener.
pub const METRICS_PATH: &str = "/metrics";
/// Host port Kind maps to the health listener's NodePort (30180).
pub const KIND_HEALTH_PORT: u16 = 28080;
/// Host port Kind maps to the metrics listener's NodePort (30090).
pub const KIND_METRICS_PORT: u16 = 9090;
/// The health listener's port on the Service and the container.
pub const SERVICE_HEALTH_PORT: u16 = 8081;
/// The metrics listener's port on the Service and the container.
pub const SERVICE_METRICS_PORT: u16 = 9090;
/// Host port Kind maps to the DataStorage double's NodePort (30081).
pub const KIND_DATASTORAGE_PORT: u16 = fixtures::manifests::DATASTORAGE_HOST_PORT;

/// A URL and the rule (or flag) it came from, for the banner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sourced {
    /// The URL.
    pub url: String,
    /// Where it came from, in words.
    pub source: String,
}

/// The port of the API listener in both layouts (container, Service, and Kind's host port).
pub const API_PORT: u16 = 8080;

/// The readiness and metrics URLs of the gateway whose API listener is at `gateway_url`, each
/// unless given by its flag (`health_flag`, `metrics_flag`). An API on port 8080 of a loopback
/// host is Kind's host mapping: health on 28080, metrics on 9090. On port 8080 of any other host
/// it is the Service: health on 8081, metrics on 9090. Any other URL has no known layout: both
/// are taken from the API listener itself, and the banner says so.
pub fn sidecar_urls(gateway_url: &str, health_flag: Option<&str>, metrics_flag: Option<&str>) -> (Sourced, Sourced) {
    let parsed = reqwest::Url::parse(gateway_url).ok();
    let loopback = parsed.as_ref().and_then(|u| u.host_str()).is_some_and(is_loopback);
    let api_port = parsed.as_ref().and_then(reqwest::Url::port_or_known_default);
    let (ports, layout) = match (api_port == Some(API_PORT), loopback) {
        (true, true) => {
            (Some((KIND_HEALTH_PORT, KIND_METRICS_PORT)), "Kind host ports for a gateway at localhost:8080")
        }
        (true, false) => (Some((SERVICE_HEALTH_PORT, SERVICE_METRICS_PORT)), "the Service's ports 8081 and 9090"),
        (false, _) => (None, "no known layout for this port, so the API listener itself"),
    };
    let on_port = |port: Option<u16>, path: &str| match (&parsed, port) {
        (Some(url), Some(port)) => {
            let mut url = url.clone();
            let _ = url.set_port(Some(port));
            url.set_path(path);
            url.to_string()
        }
        _ => format!("{gateway_url}{path}"),
    };
    let pick = |flag: Option<&str>, name: &str, port: Option<u16>, path: &str| match flag {
        Some(url) => Sourced { url: url.to_owned(), source: format!("from --{name}-url") },
        None => Sourced { url: on_port(port, path), source: format!("default: {layout}; change with --{name}-url") },
    };
    (
        pick(health_flag, "health", ports.map(|p| p.0), READY_PATH),
        pick(metrics_flag, "metrics", ports.map(|p| p.1), METRICS_PATH),
    )
}

/// Where the audit cases read the gateway's events when no flag names a DataStorage: for an API
/// listener on port 8080 of a loopback host (Kind's host mapping), the DataStorage double's host
/// port 18091 on the same host; else nowhere known (`None`). A default is only a guess: the
/// caller checks it answers before using it.
pub fn kind_datastorage_url(gateway_url: &str) -> Option<Sourced> {
    let parsed = reqwest::Url::parse(gateway_url).ok()?;
    let kind = parsed.port_or_known_default() == Some(API_PORT) && parsed.host_str().is_some_and(is_loopback);
    kind.then(|| {
        let mut url = parsed.clone();
        let _ = url.set_port(Some(KIND_DATASTORAGE_PORT));
        url.set_path("");
        Sourced {
            url: url.as_str().trim_end_matches('/').to_owned(),
            source: "default: Kind host port of the DataStorage double for a gateway at localhost:8080; change \
                     with --datastorage-url"
                .to_owned(),
        }
    })
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datastorage_defaults_only_for_the_kind_host_layout() {
        let kind = kind_datastorage_url("http://localhost:8080").map(|s| s.url);
        assert_eq!(kind.as_deref(), Some("http://localhost:18091"));
        let v6 = kind_datastorage_url("http://[::1]:8080/").map(|s| s.url);
        assert_eq!(v6.as_deref(), Some("http://[::1]:18091"));
        assert!(kind_datastorage_url("http://gateway-service.kubernaut-system.svc.cluster.local:8080").is_none());
        assert!(kind_datastorage_url("http://127.0.0.1:41234").is_none());
        assert!(kind_datastorage_url("not a url").is_none());
    }

    #[test]
    fn kind_host_layout_for_loopback_service_layout_elsewhere_flags_win() {
        let (health, metrics) = sidecar_urls("http://localhost:8080", None, None);
        assert_eq!(health.url, "http://localhost:28080/readyz");
        assert_eq!(metrics.url, "http://localhost:9090/metrics");
        assert!(health.source.contains("Kind") && health.source.contains("--health-url"), "{}", health.source);
        let (health, _) = sidecar_urls("http://127.0.0.1:8080", None, None);
        assert_eq!(health.url, "http://127.0.0.1:28080/readyz");
        let (health, metrics) =
            sidecar_urls("http://gateway-service.kubernaut-system.svc.cluster.local:8080", None, None);
        assert_eq!(health.url, "http://gateway-service.kubernaut-system.svc.cluster.local:8081/readyz");
        assert_eq!(metrics.url, "http://gateway-service.kubernaut-system.svc.cluster.local:9090/metrics");
        let (health, metrics) =
            sidecar_urls("http://localhost:8080", Some("http://h:1/readyz"), Some("http://m:2/metrics"));
        assert_eq!((health.url.as_str(), health.source.as_str()), ("http://h:1/readyz", "from --health-url"));
        assert_eq!(metrics.url, "http://m:2/metrics");
        let (health, _) = sidecar_urls("http://[::1]:8080", None, None);
        assert_eq!(health.url, "http://[::1]:28080/readyz");
        let (health, metrics) = sidecar_urls("http://127.0.0.1:41234", None, None);
        assert_eq!(
            (health.url.as_str(), metrics.url.as_str()),
            ("http://127.0.0.1:41234/readyz", "http://127.0.0.1:41234/metrics")
        );
        assert!(health.source.contains("no known layout"), "{}", health.source);
    }
}
