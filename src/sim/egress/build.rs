//! Building the egress part from a scenario: its links (host and task ENIs, NAT gateways,
//! internet gateway, endpoints, the cross-AZ meter) and the path of each route.

use super::*;

impl Egress {
    /// `None` unless the scenario simulates pulls and logs.
    pub fn new(scenario: &Scenario, cluster: &Cluster) -> Option<Egress> {
        if !scenario.egress.enabled {
            return None;
        }
        let net_spec = scenario.network.as_ref();
        let en = net_spec.map(|n| n.egress.clone()).unwrap_or_default();
        let subnets = net_spec.map(|n| n.subnets.as_slice()).unwrap_or(&[]);
        let routes = en.route_table(subnets);
        let mut net = FlowNetwork::new();
        let igw = net.add_link(f64::INFINITY);
        let s3 = net.add_link(f64::INFINITY);
        let cross_az = net.add_link(f64::INFINITY);
        let nats = routes.nat_azs.iter().map(|&az| (az, net.add_link(en.nat_bandwidth_bps))).collect();
        let mut endpoint_links = BTreeMap::new();
        let endpoint_azs: Vec<AzId> =
            if en.endpoints.azs.is_empty() { (0..scenario.azs.len() as u32).map(AzId).collect() } else { en.endpoints.azs.clone() };
        for az in endpoint_azs {
            if en.endpoints.ecr {
                endpoint_links.insert((EndpointService::Ecr, az), net.add_link(en.endpoint_bandwidth_bps));
            }
            if en.endpoints.logs {
                endpoint_links.insert((EndpointService::Logs, az), net.add_link(en.endpoint_bandwidth_bps));
            }
        }
        let mut host_links = Vec::with_capacity(cluster.hosts.len());
        let mut host_origin = Vec::with_capacity(cluster.hosts.len());
        for h in &cluster.hosts {
            let t = &scenario.instance_types[h.instance_type as usize];
            let gbps = match en.host_bandwidth {
                HostBandwidth::Baseline => t.baseline_gbps,
                HostBandwidth::Burst => t.burst_gbps,
            };
            host_links.push(net.add_link(gbps * crate::model::egress::BYTES_PER_GBIT));
            // A host in a public subnet has a public IP (auto-assigned); without a [network] it
            // is taken as private with a route out (no layout to say otherwise).
            let (az, public) = h.subnet.map_or((h.az, false), |s| (subnets[s.0 as usize].az, subnets[s.0 as usize].public));
            host_origin.push(Origin { subnet: SubnetRouting { az, public }, public_ip: public });
        }
        let images = &scenario.egress.images;
        let mut names: BTreeMap<&str, ImageId> = BTreeMap::new();
        for td in &scenario.task_definitions {
            for c in &td.containers {
                let next = ImageId(names.len() as u32);
                names.entry(c.image.as_str()).or_insert(next);
            }
        }
        let td_images = scenario
            .task_definitions
            .iter()
            .map(|td| {
                td.containers
                    .iter()
                    .map(|c| ContainerImage {
                        image: names[c.image.as_str()],
                        size_bytes: images.size_bytes(&c.image),
                        ecr: is_private_ecr(&c.image),
                        awslogs: c.log_driver.as_deref() == Some("awslogs"),
                        log_rate_bps: scenario.egress.logs.rate_bps(&td.family, &c.name),
                        log_mode: log_mode(&c.log_options),
                    })
                    .collect()
            })
            .collect();
        let soci = scenario
            .task_definitions
            .iter()
            .map(|td| !td.containers.is_empty() && td.containers.iter().all(|c| images.has_soci_index(&c.image)))
            .collect();
        Some(Egress {
            net,
            routes,
            host_links,
            host_origin,
            fargate_bandwidth_bps: en.fargate_task_bandwidth_bps,
            fargate_links_free: Vec::new(),
            nats,
            igw,
            s3,
            cross_az,
            endpoint_links,
            cache: ImageCache::new(cluster.hosts.len()),
            keeps_cache: scenario.egress.images.pull_behavior.reads_cache(),
            td_images,
            public_ip: scenario.egress.workloads.iter().map(|w| w.assign_public_ip).collect(),
            soci,
            soci_fraction: images.soci_start_fraction,
            flows: Vec::new(),
            tasks: Default::default(),
            changed: Vec::new(),
            lost_log_bytes: 0.0,
            log_stalled_us: 0.0,
            nat_bandwidth_bps: en.nat_bandwidth_bps,
            image_pull_timeout: images.image_pull_timeout,
            log_owner: Vec::new(),
            carried_buf: Vec::new(),
            deadlines: Vec::new(),
            finish_changes: Vec::new(),
            downloads: vec![Vec::new(); cluster.hosts.len()],
            waiters: FxHashMap::default(),
            pulls_joined: 0,
            pull_buf: Vec::new(),
            join_buf: Vec::new(),
        })
    }

    pub(super) fn hop_link(&self, route: Route) -> LinkId {
        match route.hop {
            Hop::InternetGateway => self.igw,
            Hop::S3Gateway => self.s3,
            Hop::Nat(az) => self.nats.iter().find(|(a, _)| *a == az).expect("routed to a NAT gateway that exists").1,
            Hop::Interface(svc, az) => self.endpoint_links[&(svc, az)],
        }
    }

    pub(super) fn path(&self, eni: LinkId, route: Route) -> Path {
        if route.cross_az { Path::new(&[eni, self.cross_az, self.hop_link(route)]) } else { Path::new(&[eni, self.hop_link(route)]) }
    }
}

pub(super) fn hop_link_of(
    nats: &[(AzId, LinkId)],
    igw: LinkId,
    s3: LinkId,
    endpoints: &BTreeMap<(EndpointService, AzId), LinkId>,
    route: Route,
) -> LinkId {
    match route.hop {
        Hop::InternetGateway => igw,
        Hop::S3Gateway => s3,
        Hop::Nat(az) => nats.iter().find(|(a, _)| *a == az).expect("routed to a NAT gateway that exists").1,
        Hop::Interface(svc, az) => endpoints[&(svc, az)],
    }
}
