//! A case's world in a cluster without controllers: the suite makes every level of an owner
//! chain itself, each child pointing at its owner's uid, and deletes all of it afterwards.

use std::sync::Arc;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::{Api, ResourceExt};
use suites::{CaseLog, Ctx, CtxConfig, FailureKind};

fn controller_of<K: kube::Resource>(object: &K) -> (String, String) {
    let owner = object.owner_references().iter().find(|o| o.controller == Some(true)).cloned().unwrap_or_default();
    (owner.kind, owner.uid)
}

#[tokio::test]
async fn a_deployment_chain_is_built_level_by_level_and_deleted() {
    let kube = fixtures::cluster::in_memory().await.unwrap_or_else(|e| panic!("{e}"));
    let http = reqwest::Client::new();
    let config = Arc::new(CtxConfig { kube: Some(kube.clone()), ..CtxConfig::for_gateway(http, "http://127.0.0.1:9") });
    let ctx = Ctx::new(config, "test::world", CaseLog::default());
    let world = ctx.world("chain").await.unwrap_or_else(|e| panic!("{e}"));
    let chain = world.deployment("web", 2).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(chain.pods.len(), 2);
    let deployment = Api::<Deployment>::namespaced(kube.clone(), world.namespace()).get("web").await;
    let deployment = deployment.unwrap_or_else(|e| panic!("{e}"));
    let rs = Api::<ReplicaSet>::namespaced(kube.clone(), world.namespace()).get(&chain.replica_set).await;
    let rs = rs.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(controller_of(&rs), ("Deployment".to_owned(), deployment.uid().unwrap_or_default()));
    let pods: Api<Pod> = Api::namespaced(kube.clone(), world.namespace());
    for name in &chain.pods {
        let pod = pods.get(name).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(controller_of(&pod), ("ReplicaSet".to_owned(), rs.uid().unwrap_or_default()));
    }
    ctx.delete_leftovers().await;
    assert!(pods.get_opt(&chain.pods[0]).await.unwrap_or_else(|e| panic!("{e}")).is_none());
    let namespaces: Api<Namespace> = Api::all(kube);
    assert!(namespaces.get_opt(world.namespace()).await.unwrap_or_else(|e| panic!("{e}")).is_none());
}

#[tokio::test]
async fn without_cluster_access_a_world_is_a_skip_that_says_how_to_get_access() {
    let config = Arc::new(CtxConfig::for_gateway(reqwest::Client::new(), "http://127.0.0.1:9"));
    let ctx = Ctx::new(config, "test::world", CaseLog::default());
    let failure = ctx.world("none").await.err().unwrap_or_else(|| panic!("a world without a cluster"));
    assert_eq!(failure.kind, FailureKind::Skip);
    assert!(
        failure.message.contains("KUBECONFIG") && failure.message.contains("--kube in-cluster"),
        "{}",
        failure.message
    );
}
