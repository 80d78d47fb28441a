//! What a case created and did not delete is deleted after it by `Ctx::delete_leftovers`, which
//! the runner calls after every attempt (also after a timeout or a cancellation).

use std::sync::Arc;

use fixtures::crd::RemediationRequest;
use fixtures::payloads::{Alert, Webhook};
use suites::{CaseLog, Ctx, CtxConfig};

#[tokio::test]
async fn created_resources_left_by_a_case_are_deleted_after_it() {
    let double = fixtures::double::start(Default::default()).await.unwrap_or_else(|e| panic!("{e}"));
    let http = reqwest::Client::builder().no_proxy().build().unwrap_or_else(|e| panic!("{e}"));
    let config = Arc::new(CtxConfig { kube: Some(double.kube.clone()), ..CtxConfig::for_gateway(http, &double.url) });
    let log = CaseLog::default();
    let ctx = Ctx::new(config, "test::leftovers", log.clone());
    let api: kube::Api<RemediationRequest> =
        kube::Api::namespaced(double.kube.clone(), fixtures::crd::CONTROLLER_NAMESPACE);
    let mut names = Vec::new();
    for pod in ["left-a", "left-b"] {
        let answer = ctx.post_alert(&Webhook::with_alert(Alert::firing("Leftover").namespace("e2e").pod(pod))).await;
        let answer = answer.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(answer.status, 201, "{}", answer.body);
        let body = answer.json().unwrap_or_else(|e| panic!("{e}"));
        names.push(body["remediationRequestName"].as_str().unwrap_or_default().to_owned());
    }
    // The case deleted the first itself; only the second is a leftover.
    api.delete(&names[0], &Default::default()).await.unwrap_or_else(|e| panic!("{e}"));
    ctx.forget_created(&names[0]);
    assert!(ctx.has_leftovers());
    ctx.delete_leftovers().await;
    assert!(!ctx.has_leftovers());
    assert!(api.get_opt(&names[1]).await.unwrap_or_else(|e| panic!("{e}")).is_none(), "leftover deleted");
    let text = log.contents();
    assert!(text.contains(&format!("deleted RemediationRequest {}", names[1])), "{text}");
    assert!(!text.contains(&format!("deleted RemediationRequest {}", names[0])), "{text}");
    double.shutdown().await;
}
