//! What a case created and did not delete is deleted after it by `Ctx::delete_leftovers`, which
//! the runner calls after every attempt (also after a timeout or a cancellation): the
//! RemediationRequests about its world, then its objects, then its namespaces.

use std::sync::Arc;

use fixtures::crd::RemediationRequest;
use fixtures::payloads::{Alert, Webhook};
use k8s_openapi::api::core::v1::{Namespace, Node, Pod};
use suites::{CaseLog, Ctx, CtxConfig};

#[tokio::test]
async fn a_case_world_and_its_requests_are_deleted_after_it() {
    let double = fixtures::double::start(Default::default()).await.unwrap_or_else(|e| panic!("{e}"));
    let http = reqwest::Client::builder().no_proxy().build().unwrap_or_else(|e| panic!("{e}"));
    let (namespace, account) = (fixtures::crd::CONTROLLER_NAMESPACE, fixtures::credentials::SUITE_ACCOUNT);
    fixtures::credentials::provision(&double.kube, namespace, account, true).await.unwrap_or_else(|e| panic!("{e}"));
    let token =
        fixtures::credentials::mint_token(&double.kube, namespace, account).await.unwrap_or_else(|e| panic!("{e}"));
    let config = Arc::new(CtxConfig {
        kube: Some(double.kube.clone()),
        token: Some(Arc::from(token.as_str())),
        ..CtxConfig::for_gateway(http, &double.url)
    });
    let log = CaseLog::default();
    let ctx = Ctx::new(config, "test::leftovers", log.clone());
    assert!(!ctx.has_leftovers());
    let world = ctx.world("left").await.unwrap_or_else(|e| panic!("{e}"));
    let pod = world.pod("left-0").await.unwrap_or_else(|e| panic!("{e}"));
    let node = ctx.node("left", Some(true)).await.unwrap_or_else(|e| panic!("{e}"));
    let webhook = Webhook::with_alert(Alert::firing("Leftover").namespace(world.namespace()).pod(&pod));
    let answer = ctx.post_alert(&webhook).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(answer.status, 201, "{}", answer.body);
    let name = answer.json().unwrap_or_else(|e| panic!("{e}"))["remediationRequestName"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(ctx.has_leftovers());

    ctx.delete_leftovers().await;
    assert!(!ctx.has_leftovers());
    let kube = double.kube.clone();
    let rrs: kube::Api<RemediationRequest> = kube::Api::namespaced(kube.clone(), fixtures::crd::CONTROLLER_NAMESPACE);
    assert!(rrs.get_opt(&name).await.unwrap_or_else(|e| panic!("{e}")).is_none(), "request deleted");
    let pods: kube::Api<Pod> = kube::Api::namespaced(kube.clone(), world.namespace());
    assert!(pods.get_opt(&pod).await.unwrap_or_else(|e| panic!("{e}")).is_none(), "pod deleted");
    let nodes: kube::Api<Node> = kube::Api::all(kube.clone());
    assert!(nodes.get_opt(&node).await.unwrap_or_else(|e| panic!("{e}")).is_none(), "node deleted");
    let namespaces: kube::Api<Namespace> = kube::Api::all(kube);
    assert!(
        namespaces.get_opt(world.namespace()).await.unwrap_or_else(|e| panic!("{e}")).is_none(),
        "namespace deleted"
    );
    let text = log.contents();
    assert!(text.contains(&format!("deleted RemediationRequest {name}")), "{text}");
    double.shutdown().await;
}
