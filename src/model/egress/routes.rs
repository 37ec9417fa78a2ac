//! Which way a task's image layers and logs leave the VPC: internet gateway, NAT gateway (its
//! AZ's or a shared one), VPC endpoints — or no way at all.
//!
//! Who carries the bytes (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-networking.html,
//! https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-networking-awsvpc.html): on
//! Fargate every byte leaves through the **task's** ENI in the task's subnet, with the task's
//! `assignPublicIp`; on EC2 the Docker daemon pulls images and runs the awslogs driver in the host's
//! network namespace, so the bytes leave through the **host's** ENI in the host's subnet (awsvpc
//! task ENIs on EC2 never get public IPs).
//!
//! From there: a public subnet with a public IP → internet gateway; a public subnet without one →
//! nothing comes back (no route); a private subnet → the NAT gateway its route table names (per
//! AZ, or one shared NAT, possibly in another AZ — then the bytes cross AZs); with endpoints, ECR
//! layers (served from S3) go through the S3 gateway endpoint and the registry API and logs
//! through interface endpoints (https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html).

use crate::model::AzId;

/// Where private subnets send internet-bound traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NatLayout {
    /// Each private subnet routes to the NAT gateway of its own AZ (none there: no route).
    PerAz,
    /// Every private subnet routes to the NAT gateway in this AZ.
    Single(AzId),
    /// Private subnets have no route to the internet.
    None,
}

/// An interface endpoint service (AWS PrivateLink).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EndpointService {
    /// `ecr.api` and `ecr.dkr` together: both are needed to pull from ECR privately.
    Ecr,
    /// `logs` (CloudWatch Logs).
    Logs,
}

/// The VPC endpoints of a scenario.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Endpoints {
    /// Interface endpoints for `ecr.api` + `ecr.dkr`.
    pub ecr: bool,
    /// Interface endpoint for `logs`.
    pub logs: bool,
    /// The S3 gateway endpoint (free) that serves ECR image layers.
    pub s3_gateway: bool,
    /// AZs with an endpoint network interface, sorted; empty = every AZ.
    pub azs: Vec<AzId>,
}

impl Endpoints {
    /// Number of interface endpoints billed per AZ: `ecr.api` and `ecr.dkr` count as two.
    pub fn interface_endpoints_per_az(&self) -> u32 {
        2 * u32::from(self.ecr) + u32::from(self.logs)
    }

    /// The AZ whose endpoint interface serves `from`: its own if it has one, else the first.
    fn az_for(&self, from: AzId) -> AzId {
        if self.azs.is_empty() || self.azs.contains(&from) { from } else { self.azs[0] }
    }
}

/// The subnet facts routing needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubnetRouting {
    pub az: AzId,
    pub public: bool,
}

/// Where traffic starts: the ENI that carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    pub subnet: SubnetRouting,
    /// The ENI has a public IPv4 address (EC2 host in a public subnet; Fargate `assignPublicIp`).
    pub public_ip: bool,
}

/// What is being sent or fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Traffic {
    /// Image layers; `ecr` when the image is in a private ECR repository.
    Image { ecr: bool },
    /// awslogs to CloudWatch Logs.
    Logs,
}

/// The metered hop the bytes take after the ENI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Hop {
    InternetGateway,
    /// The NAT gateway in this AZ (then the internet gateway).
    Nat(AzId),
    S3Gateway,
    /// An interface endpoint's network interface in this AZ.
    Interface(EndpointService, AzId),
}

/// A resolved route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub hop: Hop,
    /// The hop is in another AZ than the ENI: the bytes pay cross-AZ transfer both ways.
    pub cross_az: bool,
}

/// The network layout that decides routes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteTable {
    pub nat: NatLayout,
    /// AZs that hold a NAT gateway, sorted.
    pub nat_azs: Vec<AzId>,
    pub endpoints: Endpoints,
}

impl RouteTable {
    /// The route for `traffic` from `origin`, or `None` when nothing can carry it.
    pub fn route(&self, origin: Origin, traffic: Traffic) -> Option<Route> {
        match traffic {
            Traffic::Image { ecr: true } => {
                // The registry API (auth, manifest) must be reachable, privately or not.
                if !self.endpoints.ecr {
                    self.internet(origin)?;
                }
                if self.endpoints.s3_gateway { Some(Route { hop: Hop::S3Gateway, cross_az: false }) } else { self.internet(origin) }
            }
            Traffic::Image { ecr: false } => self.internet(origin),
            Traffic::Logs if self.endpoints.logs => {
                let az = self.endpoints.az_for(origin.subnet.az);
                Some(Route { hop: Hop::Interface(EndpointService::Logs, az), cross_az: az != origin.subnet.az })
            }
            Traffic::Logs => self.internet(origin),
        }
    }

    /// The registry API route for an ECR image (through the `ecr` endpoints or the internet);
    /// its bytes are negligible, only whether it exists matters.
    pub fn registry_api(&self, origin: Origin) -> Option<Route> {
        if self.endpoints.ecr {
            let az = self.endpoints.az_for(origin.subnet.az);
            Some(Route { hop: Hop::Interface(EndpointService::Ecr, az), cross_az: az != origin.subnet.az })
        } else {
            self.internet(origin)
        }
    }

    fn internet(&self, origin: Origin) -> Option<Route> {
        if origin.subnet.public {
            // Without a public IP, replies from the internet never reach the ENI.
            return origin.public_ip.then_some(Route { hop: Hop::InternetGateway, cross_az: false });
        }
        let az = match self.nat {
            NatLayout::PerAz => origin.subnet.az,
            NatLayout::Single(az) => az,
            NatLayout::None => return None,
        };
        self.nat_azs.contains(&az).then_some(Route { hop: Hop::Nat(az), cross_az: az != origin.subnet.az })
    }
}

/// Whether an image name is in a private ECR repository
/// (`<account>.dkr.ecr.<region>.amazonaws.com/<repo>`). ECR Public (`public.ecr.aws`) is not: it
/// is pulled over the internet and needs no execution role.
pub fn is_private_ecr(image: &str) -> bool {
    let registry = image.split('/').next().unwrap_or("");
    registry.contains(".dkr.ecr.") && (registry.ends_with(".amazonaws.com") || registry.ends_with(".amazonaws.com.cn"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: AzId = AzId(0);
    const B: AzId = AzId(1);

    fn private(az: AzId) -> Origin {
        Origin { subnet: SubnetRouting { az, public: false }, public_ip: false }
    }

    fn table(nat: NatLayout, nat_azs: &[AzId]) -> RouteTable {
        RouteTable { nat, nat_azs: nat_azs.to_vec(), endpoints: Endpoints::default() }
    }

    const ECR: Traffic = Traffic::Image { ecr: true };

    #[test]
    fn private_subnet_uses_its_own_azs_nat_with_no_cross_az_bytes() {
        let t = table(NatLayout::PerAz, &[A, B]);
        assert_eq!(t.route(private(B), ECR), Some(Route { hop: Hop::Nat(B), cross_az: false }));
    }

    #[test]
    fn a_shared_nat_in_another_az_makes_the_bytes_cross_azs() {
        let t = table(NatLayout::Single(A), &[A]);
        assert_eq!(t.route(private(A), ECR), Some(Route { hop: Hop::Nat(A), cross_az: false }));
        assert_eq!(t.route(private(B), ECR), Some(Route { hop: Hop::Nat(A), cross_az: true }));
    }

    #[test]
    fn private_subnet_without_nat_or_endpoints_has_no_route() {
        assert_eq!(table(NatLayout::PerAz, &[A]).route(private(B), ECR), None, "per-AZ layout, no NAT in B");
        assert_eq!(table(NatLayout::None, &[A]).route(private(A), Traffic::Logs), None);
    }

    #[test]
    fn public_subnet_needs_a_public_ip_to_reach_the_internet_gateway() {
        let t = table(NatLayout::PerAz, &[A]);
        let with_ip = Origin { subnet: SubnetRouting { az: A, public: true }, public_ip: true };
        let without = Origin { public_ip: false, ..with_ip };
        assert_eq!(t.route(with_ip, ECR), Some(Route { hop: Hop::InternetGateway, cross_az: false }));
        assert_eq!(t.route(without, ECR), None, "Fargate in a public subnet without assignPublicIp");
    }

    #[test]
    fn endpoints_carry_layers_through_s3_and_logs_through_the_logs_endpoint() {
        let mut t = table(NatLayout::None, &[]);
        t.endpoints = Endpoints { ecr: true, logs: true, s3_gateway: true, azs: vec![A] };
        assert_eq!(t.route(private(A), ECR), Some(Route { hop: Hop::S3Gateway, cross_az: false }));
        assert_eq!(t.route(private(B), Traffic::Logs), Some(Route { hop: Hop::Interface(EndpointService::Logs, A), cross_az: true }));
        assert_eq!(t.route(private(A), Traffic::Image { ecr: false }), None, "Docker Hub needs the internet");
        // The S3 gateway alone is not enough: the registry API is unreachable.
        t.endpoints.ecr = false;
        assert_eq!(t.route(private(A), ECR), None);
        // ECR endpoints without the S3 gateway: layers go through the NAT.
        t.endpoints = Endpoints { ecr: true, logs: false, s3_gateway: false, azs: vec![] };
        t.nat = NatLayout::PerAz;
        t.nat_azs = vec![A];
        assert_eq!(t.route(private(A), ECR), Some(Route { hop: Hop::Nat(A), cross_az: false }));
    }

    #[test]
    fn private_ecr_is_recognised_by_its_registry_host() {
        assert!(is_private_ecr("123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.2"));
        assert!(!is_private_ecr("public.ecr.aws/nginx/nginx:latest"));
        assert!(!is_private_ecr("nginx:latest"));
        assert!(!is_private_ecr("docker.io/library/app.dkr.ecr.amazonaws.com"));
    }
}
