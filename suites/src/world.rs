//! A case's own world in the Kubernetes API (contract §8): a namespace unique to the case attempt
//! (labelled `kubernaut.ai/managed=true`, or not, for the scope cases), the objects its signals
//! name (bare Pods, Deployment → ReplicaSet → Pod chains, StatefulSets, DaemonSets, Nodes), and
//! the deletion of all of it, and of the RemediationRequests about it, after the case.
//!
//! Objects come from the pure builders of `fixtures::world`. In a cluster without controllers
//! (the in-memory one) each level of a chain is created by hand, owner first; in a real cluster
//! only the Deployment is, and its controller-made ReplicaSet and Pods are waited for.

use std::time::Duration;

use fixtures::crd::{LABEL_MANAGED_BY, RemediationRequest};
use fixtures::world as build;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{Namespace, Node, Pod, ServiceAccount};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Ctx, Failure, eventually};

/// Longest a case waits for a controller to make a Deployment's ReplicaSet and Pods.
/// How long a new namespace may go without its `default` ServiceAccount on a real cluster.
const ACCOUNT_DEADLINE: Duration = Duration::from_secs(30);
const CONTROLLER_DEADLINE: Duration = Duration::from_secs(90);
/// How often it looks.
const CONTROLLER_INTERVAL: Duration = Duration::from_millis(500);

/// The kinds a case creates, each deleted through its own typed API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Namespace,
    Node,
    Pod,
    Deployment,
    ReplicaSet,
    StatefulSet,
    DaemonSet,
}

/// One object a case created, remembered for deletion.
#[derive(Clone, Debug)]
pub struct Tracked {
    kind: Kind,
    namespace: Option<String>,
    name: String,
}

/// A managed (or deliberately unmanaged) namespace of one case attempt, where it creates the
/// objects its signals are about.
#[derive(Clone, Debug)]
pub struct World {
    ctx: Ctx,
    namespace: String,
}

/// A Deployment and what it controls: the chain a Pod's owner resolution walks (§3).
#[derive(Clone, Debug)]
pub struct Chain {
    /// The Deployment's name.
    pub deployment: String,
    /// The name of the ReplicaSet it controls.
    pub replica_set: String,
    /// The names of the Pods the ReplicaSet controls.
    pub pods: Vec<String>,
}

impl Ctx {
    /// Creates a namespace of this case attempt labelled `kubernaut.ai/managed=true` (§5).
    pub async fn world(&self, tag: &str) -> Result<World, Failure> {
        self.world_with(tag, Some(true)).await
    }

    /// Creates a namespace of this case attempt with the scope label set to `managed`, or without
    /// it (`None`).
    pub async fn world_with(&self, tag: &str, managed: Option<bool>) -> Result<World, Failure> {
        let name = self.unique(&format!("ns-{tag}"));
        let api: Api<Namespace> = Api::all(self.kube()?);
        create(self, &api, &build::namespace(&name, managed)).await?;
        if self.config().runs_controllers {
            self.wait_for_default_account(&name).await?;
        }
        Ok(World { ctx: self.clone(), namespace: name })
    }

    /// Waits (bounded) until a real cluster's controllers made the `default` ServiceAccount of a
    /// new namespace: until then its API server refuses Pods there, as upstream's helpers allow for.
    async fn wait_for_default_account(&self, namespace: &str) -> Result<(), Failure> {
        let api: Api<ServiceAccount> = Api::namespaced(self.kube()?, namespace);
        eventually(ACCOUNT_DEADLINE, CONTROLLER_INTERVAL, || {
            let api = api.clone();
            async move {
                match api.get_opt("default").await? {
                    Some(_) => Ok(()),
                    None => Err(Failure::new(format!("namespace {namespace} has no default ServiceAccount yet"))),
                }
            }
        })
        .await
    }

    /// The namespace `namespace`, which exists already (e.g. `default`): objects the case makes in
    /// it are deleted afterwards, the namespace is not.
    pub fn existing_namespace(&self, namespace: &str) -> World {
        World { ctx: self.clone(), namespace: namespace.to_owned() }
    }

    /// Creates a Node object (cluster-scoped) of this case attempt with the scope label set to
    /// `managed` or absent; returns its name.
    pub async fn node(&self, tag: &str, managed: Option<bool>) -> Result<String, Failure> {
        let name = self.unique(&format!("node-{tag}"));
        let api: Api<Node> = Api::all(self.kube()?);
        create(self, &api, &build::node(&name, managed)).await?;
        Ok(name)
    }
}

impl World {
    /// The namespace's name.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    fn api<K: Resource<Scope = k8s_openapi::NamespaceResourceScope>>(&self) -> Result<Api<K>, Failure>
    where
        K::DynamicType: Default,
    {
        Ok(Api::namespaced(self.ctx.kube()?, &self.namespace))
    }

    /// Creates a bare Pod (no owner) named `name`; returns the name.
    pub async fn pod(&self, name: &str) -> Result<String, Failure> {
        create(&self.ctx, &self.api()?, &build::pod(&self.namespace, name)).await?;
        Ok(name.to_owned())
    }

    /// Creates a bare Pod named `name` with the scope label set to `managed` on the Pod itself.
    pub async fn labelled_pod(&self, name: &str, managed: bool) -> Result<String, Failure> {
        let pod = build::with_managed(build::pod(&self.namespace, name), managed);
        create(&self.ctx, &self.api()?, &pod).await?;
        Ok(name.to_owned())
    }

    /// Creates a StatefulSet named `name`; returns the name.
    pub async fn stateful_set(&self, name: &str) -> Result<String, Failure> {
        create(&self.ctx, &self.api()?, &build::stateful_set(&self.namespace, name)).await?;
        Ok(name.to_owned())
    }

    /// Creates a DaemonSet named `name`; returns the name.
    pub async fn daemon_set(&self, name: &str) -> Result<String, Failure> {
        create(&self.ctx, &self.api()?, &build::daemon_set(&self.namespace, name)).await?;
        Ok(name.to_owned())
    }

    /// Creates a Deployment named `name` with `replicas` Pods and returns the chain under it: by
    /// hand in a cluster without controllers, by waiting for them in a real one.
    pub async fn deployment(&self, name: &str, replicas: usize) -> Result<Chain, Failure> {
        let count = i32::try_from(replicas).map_err(|_| Failure::new(format!("{replicas} replicas is too many")))?;
        let deployment = create(&self.ctx, &self.api()?, &build::deployment(&self.namespace, name, count)).await?;
        if self.ctx.config().runs_controllers {
            self.wait_for_chain(&deployment, replicas).await
        } else {
            self.build_chain(&deployment, replicas).await
        }
    }

    async fn build_chain(&self, deployment: &Deployment, replicas: usize) -> Result<Chain, Failure> {
        let name = deployment.name_any();
        let missing_uid = || Failure::infra(format!("the API server gave {name} no uid"));
        let replica_set = build::replica_set_of(deployment, &format!("{name}-5d8f9c7b6")).ok_or_else(missing_uid)?;
        let replica_set = create(&self.ctx, &self.api()?, &replica_set).await?;
        let mut pods = Vec::with_capacity(replicas);
        for i in 0..replicas {
            let pod_name = format!("{}-x{i}", replica_set.name_any());
            let pod = build::pod_of(&replica_set, &pod_name).ok_or_else(missing_uid)?;
            create(&self.ctx, &self.api()?, &pod).await?;
            pods.push(pod_name);
        }
        Ok(Chain { deployment: name, replica_set: replica_set.name_any(), pods })
    }

    async fn wait_for_chain(&self, deployment: &Deployment, replicas: usize) -> Result<Chain, Failure> {
        let name = deployment.name_any();
        let uid = deployment.uid().unwrap_or_default();
        let replica_sets: Api<ReplicaSet> = self.api()?;
        let pods: Api<Pod> = self.api()?;
        let (replica_sets, pods, uid, name) = (&replica_sets, &pods, &uid, &name);
        eventually(CONTROLLER_DEADLINE, CONTROLLER_INTERVAL, || async move {
            let replica_set = replica_sets
                .list(&ListParams::default())
                .await?
                .items
                .into_iter()
                .find(|rs| controlled_by(rs, uid))
                .ok_or_else(|| Failure::infra(format!("no ReplicaSet of Deployment {name} yet")))?;
            let rs_uid = replica_set.uid().unwrap_or_default();
            let names: Vec<String> = pods
                .list(&ListParams::default())
                .await?
                .items
                .iter()
                .filter(|pod| controlled_by(*pod, &rs_uid))
                .map(ResourceExt::name_any)
                .collect();
            Failure::ensure(names.len() >= replicas, || format!("{} of {replicas} Pods of {name} yet", names.len()))
                .map_err(|f| Failure::infra(f.message))?;
            Ok(Chain { deployment: name.clone(), replica_set: replica_set.name_any(), pods: names })
        })
        .await
    }
}

/// Whether `object`'s controller `ownerReference` has `uid`.
fn controlled_by<K: Resource>(object: &K, uid: &str) -> bool {
    object.owner_references().iter().any(|owner| owner.controller == Some(true) && owner.uid == uid)
}

/// Creates `object` through `api`, tracks it for deletion and logs it.
async fn create<K>(ctx: &Ctx, api: &Api<K>, object: &K) -> Result<K, Failure>
where
    K: Resource<DynamicType = ()> + Clone + Serialize + DeserializeOwned + std::fmt::Debug,
{
    let created = api.create(&PostParams::default(), object).await?;
    let kind = match K::kind(&()).as_ref() {
        "Namespace" => Kind::Namespace,
        "Node" => Kind::Node,
        "Pod" => Kind::Pod,
        "Deployment" => Kind::Deployment,
        "ReplicaSet" => Kind::ReplicaSet,
        "StatefulSet" => Kind::StatefulSet,
        "DaemonSet" => Kind::DaemonSet,
        other => return Err(Failure::infra(format!("the suite does not create {other} objects"))),
    };
    let tracked = Tracked { kind, namespace: created.namespace(), name: created.name_any() };
    ctx.log(format!("world: created {kind:?} {}", describe(&tracked)));
    ctx.track(tracked);
    Ok(created)
}

fn describe(tracked: &Tracked) -> String {
    match &tracked.namespace {
        Some(namespace) => format!("{namespace}/{}", tracked.name),
        None => tracked.name.clone(),
    }
}

/// Deletes a case's world: the RemediationRequests about its namespaces and Nodes, then its
/// objects (children first), then its namespaces. Best effort and logged; a 404 is fine.
pub(crate) async fn delete_world(ctx: &Ctx) {
    let tracked = ctx.take_world();
    let Some(client) = ctx.config().kube.clone() else { return };
    if tracked.is_empty() {
        return;
    }
    delete_requests_about(ctx, &client, &tracked).await;
    let (namespaces, objects): (Vec<&Tracked>, Vec<&Tracked>) = tracked.iter().partition(|t| t.kind == Kind::Namespace);
    for batch in [objects.into_iter().rev().collect::<Vec<_>>(), namespaces] {
        let deletions = batch.into_iter().map(|t| delete_one(client.clone(), t));
        for (tracked, result) in futures::future::join_all(deletions).await {
            match result {
                Ok(()) => ctx.log(format!("cleanup: deleted {:?} {}", tracked.kind, describe(tracked))),
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(e) => ctx.log(format!("cleanup: could not delete {:?} {}: {e}", tracked.kind, describe(tracked))),
            }
        }
    }
}

async fn delete_one(client: kube::Client, tracked: &Tracked) -> (&Tracked, Result<(), kube::Error>) {
    let ns = tracked.namespace.as_deref().unwrap_or_default();
    let params = DeleteParams::background();
    let name = tracked.name.as_str();
    let result = match tracked.kind {
        Kind::Namespace => Api::<Namespace>::all(client).delete(name, &params).await.map(drop),
        Kind::Node => Api::<Node>::all(client).delete(name, &params).await.map(drop),
        Kind::Pod => Api::<Pod>::namespaced(client, ns).delete(name, &params).await.map(drop),
        Kind::Deployment => Api::<Deployment>::namespaced(client, ns).delete(name, &params).await.map(drop),
        Kind::ReplicaSet => Api::<ReplicaSet>::namespaced(client, ns).delete(name, &params).await.map(drop),
        Kind::StatefulSet => Api::<StatefulSet>::namespaced(client, ns).delete(name, &params).await.map(drop),
        Kind::DaemonSet => Api::<DaemonSet>::namespaced(client, ns).delete(name, &params).await.map(drop),
    };
    (tracked, result)
}

/// Deletes every RemediationRequest whose target lies in one of the case's namespaces or is one
/// of its Nodes (batch answers name no resources, so they are found by target).
async fn delete_requests_about(ctx: &Ctx, client: &kube::Client, tracked: &[Tracked]) {
    let names =
        |kind: Kind| -> Vec<&str> { tracked.iter().filter(|t| t.kind == kind).map(|t| t.name.as_str()).collect() };
    let (namespaces, nodes) = (names(Kind::Namespace), names(Kind::Node));
    let api: Api<RemediationRequest> = Api::namespaced(client.clone(), &ctx.config().controller_namespace);
    let (key, value) = LABEL_MANAGED_BY;
    let listed = match api.list(&ListParams::default().labels(&format!("{key}={value}"))).await {
        Ok(list) => list.items,
        Err(e) => return ctx.log(format!("cleanup: could not list RemediationRequests: {e}")),
    };
    let ours = listed.into_iter().filter(|rr| {
        let target = &rr.spec.target_resource;
        namespaces.contains(&target.namespace.as_str())
            || (target.kind == "Node" && nodes.contains(&target.name.as_str()))
    });
    let deletions = ours.map(|rr| {
        let api = api.clone();
        async move {
            let name = rr.name_any();
            (api.delete(&name, &DeleteParams::default()).await, name)
        }
    });
    for (result, name) in futures::future::join_all(deletions).await {
        match result {
            Ok(_) => ctx.log(format!("cleanup: deleted RemediationRequest {name}")),
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(e) => ctx.log(format!("cleanup: could not delete RemediationRequest {name}: {e}")),
        }
        ctx.forget_created(&name);
    }
}
