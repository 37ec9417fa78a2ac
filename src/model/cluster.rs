//! Availability Zones, hosts (ECS container instances) and the resources reserved on them.
//!
//! A host's *registered* resources are what the ECS agent advertises (less than the physical
//! ones); its *reserved* resources are the sum of what its placed tasks asked for. The cluster is
//! the single owner of that bookkeeping: `reserve` and `release` are the only way to change it,
//! and they assert conservation on both sides.

use super::instance_types::InstanceType;
use super::taskdef::Protocol;

/// Index of an Availability Zone in `Cluster::azs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AzId(pub u32);

/// Index of a host in `Cluster::hosts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostId(pub u32);

impl HostId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// The EC2 instance id a host shows in decision logs, task records and stop reasons. A
/// replacement takes its failed host's place, and its name.
pub fn instance_name(host: HostId) -> String {
    format!("i-{:08}", host.0)
}

/// CPU units and memory, as ECS counts them for placement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Resources {
    pub cpu_units: u32,
    pub memory_mib: u32,
}

impl Resources {
    pub fn fits_in(self, free: Resources) -> bool {
        self.cpu_units <= free.cpu_units && self.memory_mib <= free.memory_mib
    }
}

/// TCP/UDP host ports taken on one host: the agent's reserved ports plus tasks' static ports.
/// A handful per host, so a sorted `Vec` beats any set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostPorts {
    taken: Vec<u32>,
}

fn port_key(protocol: Protocol, port: u16) -> u32 {
    (match protocol {
        Protocol::Tcp => 0,
        Protocol::Udp => 1 << 16,
    }) | u32::from(port)
}

impl HostPorts {
    /// Ports the ECS agent reserves on Linux by default (`ECS_RESERVED_PORTS`,
    /// docs/model.md#what-an-instance-registers-and-what-a-task-reserves).
    pub const AGENT_RESERVED_TCP: [u16; 5] = [22, 2375, 2376, 51678, 51679];

    pub fn with_agent_defaults() -> HostPorts {
        let mut ports = HostPorts::default();
        for port in Self::AGENT_RESERVED_TCP {
            ports.take(Protocol::Tcp, port);
        }
        ports
    }

    pub fn is_free(&self, protocol: Protocol, port: u16) -> bool {
        self.taken.binary_search(&port_key(protocol, port)).is_err()
    }

    pub fn all_free(&self, ports: &[(Protocol, u16)]) -> bool {
        ports.iter().all(|&(p, n)| self.is_free(p, n))
    }

    fn take(&mut self, protocol: Protocol, port: u16) {
        let key = port_key(protocol, port);
        let pos = self.taken.binary_search(&key).expect_err("host port taken twice");
        self.taken.insert(pos, key);
    }

    fn give_back(&mut self, protocol: Protocol, port: u16) {
        let pos = self.taken.binary_search(&port_key(protocol, port)).expect("released a host port that was not taken");
        self.taken.remove(pos);
    }

    pub fn len(&self) -> usize {
        self.taken.len()
    }

    pub fn is_empty(&self) -> bool {
        self.taken.is_empty()
    }
}

/// One ECS container instance.
#[derive(Debug, Clone)]
pub struct Host {
    pub id: HostId,
    pub az: AzId,
    /// Index into `Cluster::instance_types`.
    pub instance_type: u32,
    /// Index into `Cluster::host_groups`.
    pub group: u32,
    pub registered: Resources,
    pub reserved: Resources,
    pub ports: HostPorts,
    /// Tasks placed on this host and not yet stopped.
    pub task_count: u32,
    /// The EC2 instance id users see in decision logs, e.g. `i-00000042`.
    pub instance_id: String,
    /// The subnet the host's primary ENI is in (`None` when the scenario models no network).
    pub subnet: Option<super::network::SubnetId>,
    /// `awsvpc` tasks it can hold: ENI limit − 1 (the primary), or the trunking limit
    /// (docs/model.md#awsvpc-task-enis-eni-slots-and-trunking).
    pub eni_task_limit: u32,
    /// `awsvpc` tasks placed on it and not yet stopped.
    pub eni_tasks: u32,
    /// Registered and ACTIVE: placement may use it. False from its EC2 instance's failure until
    /// its replacement registers (docs/model.md#host-failures-and-az-outages).
    pub active: bool,
}

impl Host {
    pub fn free(&self) -> Resources {
        Resources {
            cpu_units: self.registered.cpu_units - self.reserved.cpu_units,
            memory_mib: self.registered.memory_mib - self.reserved.memory_mib,
        }
    }
}

/// A named set of hosts of one instance type, with the custom attributes they register.
#[derive(Debug, Clone)]
pub struct HostGroup {
    pub name: String,
    /// Custom attributes, sorted by name.
    pub attributes: Vec<(String, String)>,
}

/// The whole fleet.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub azs: Vec<String>,
    pub instance_types: Vec<InstanceType>,
    pub host_groups: Vec<HostGroup>,
    pub hosts: Vec<Host>,
}

impl Cluster {
    pub fn host(&self, id: HostId) -> &Host {
        &self.hosts[id.index()]
    }

    pub fn instance_type_of(&self, id: HostId) -> &InstanceType {
        &self.instance_types[self.host(id).instance_type as usize]
    }

    pub fn az_name(&self, az: AzId) -> &str {
        &self.azs[az.0 as usize]
    }

    /// Reserves a task's resources and static ports on `host`. The caller (placement) has checked
    /// that they fit; a violation here is a bug, so it panics rather than corrupting the state.
    pub fn reserve(&mut self, host: HostId, need: Resources, ports: &[(Protocol, u16)], eni: bool) {
        let h = &mut self.hosts[host.index()];
        assert!(need.fits_in(h.free()), "reserve beyond registered resources on host {}", host.0);
        if eni {
            assert!(h.eni_tasks < h.eni_task_limit, "ENI slot beyond the limit on host {}", host.0);
            h.eni_tasks += 1;
        }
        h.reserved.cpu_units += need.cpu_units;
        h.reserved.memory_mib += need.memory_mib;
        for &(protocol, port) in ports {
            h.ports.take(protocol, port);
        }
        h.task_count += 1;
    }

    /// The host's instance failed: it leaves the cluster. Its tasks are stopped next (their
    /// resources are released as usual); placement no longer sees it.
    pub fn deactivate(&mut self, host: HostId) {
        let h = &mut self.hosts[host.index()];
        assert!(h.active, "host {} failed twice", host.0);
        h.active = false;
    }

    /// A replacement instance registers in the failed host's place (same group, AZ and subnet).
    pub fn activate(&mut self, host: HostId) {
        let h = &mut self.hosts[host.index()];
        assert!(!h.active, "host {} joined twice", host.0);
        assert!(h.task_count == 0 && h.reserved == Resources::default() && h.eni_tasks == 0, "host {} kept tasks while down", host.0);
        h.active = true;
    }

    /// Gives back exactly what `reserve` took.
    pub fn release(&mut self, host: HostId, need: Resources, ports: &[(Protocol, u16)], eni: bool) {
        let h = &mut self.hosts[host.index()];
        if eni {
            h.eni_tasks = h.eni_tasks.checked_sub(1).expect("released an ENI slot that was not taken");
        }
        assert!(
            need.cpu_units <= h.reserved.cpu_units && need.memory_mib <= h.reserved.memory_mib && h.task_count > 0,
            "release of more than was reserved on host {}",
            host.0
        );
        h.reserved.cpu_units -= need.cpu_units;
        h.reserved.memory_mib -= need.memory_mib;
        for &(protocol, port) in ports {
            h.ports.give_back(protocol, port);
        }
        h.task_count -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_host_cluster() -> Cluster {
        Cluster {
            azs: vec!["a".into()],
            instance_types: crate::model::instance_types::built_in(),
            host_groups: vec![HostGroup { name: "g".into(), attributes: vec![] }],
            hosts: vec![Host {
                id: HostId(0),
                az: AzId(0),
                instance_type: 0,
                group: 0,
                registered: Resources { cpu_units: 1024, memory_mib: 2000 },
                reserved: Resources::default(),
                ports: HostPorts::with_agent_defaults(),
                task_count: 0,
                instance_id: "i-00000000".into(),
                subnet: None,
                eni_task_limit: 2,
                eni_tasks: 0,
                active: true,
            }],
        }
    }

    #[test]
    fn reserve_then_release_restores_the_host_exactly() {
        let mut c = one_host_cluster();
        let before = c.hosts[0].clone();
        let need = Resources { cpu_units: 512, memory_mib: 1500 };
        c.reserve(HostId(0), need, &[(Protocol::Tcp, 8080)], true);
        assert_eq!(c.hosts[0].eni_tasks, 1);
        assert_eq!(c.hosts[0].free(), Resources { cpu_units: 512, memory_mib: 500 });
        assert!(!c.hosts[0].ports.is_free(Protocol::Tcp, 8080));
        assert!(c.hosts[0].ports.is_free(Protocol::Udp, 8080));
        c.release(HostId(0), need, &[(Protocol::Tcp, 8080)], true);
        assert_eq!(c.hosts[0].eni_tasks, 0);
        assert_eq!(c.hosts[0].reserved, before.reserved);
        assert_eq!(c.hosts[0].ports, before.ports);
        assert_eq!(c.hosts[0].task_count, 0);
    }

    #[test]
    fn agent_reserved_ports_are_taken_from_the_start() {
        let ports = HostPorts::with_agent_defaults();
        assert!(!ports.is_free(Protocol::Tcp, 22));
        assert!(!ports.is_free(Protocol::Tcp, 51678));
        assert!(ports.is_free(Protocol::Tcp, 80));
        assert_eq!(ports.len(), 5);
    }

    #[test]
    fn reserving_beyond_registered_memory_is_refused() {
        let mut c = one_host_cluster();
        let r = std::panic::catch_unwind(move || {
            c.reserve(HostId(0), Resources { cpu_units: 0, memory_mib: 2001 }, &[], false);
        });
        assert!(r.is_err());
    }
}
