//! Subnets and their IP pools (docs/model.md#awsvpc-task-enis-eni-slots-and-trunking, docs/model.md#subnets-and-addresses).
//!
//! Every subnet loses 5 addresses to AWS (network, router, DNS, reserved, broadcast), so a /26
//! has 59 usable. Owners of an address: each host's primary ENI, each trunk ENI, each NAT gateway,
//! and each `awsvpc` task's ENI (EC2 or Fargate) — the last from PROVISIONING until the ENI clean-up
//! after the task stops. Only counts are kept: which address an owner holds changes nothing the
//! simulator measures, and counts make allocation O(1).

use std::fmt;

use super::cluster::AzId;

/// Index of a subnet in `Network::subnets`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubnetId(pub u32);

/// Addresses AWS reserves in every subnet (docs/model.md#subnets-and-addresses).
pub const AWS_RESERVED_PER_SUBNET: u32 = 5;
/// Subnet sizes AWS allows: /16 (largest) to /28 (smallest).
pub const PREFIX_RANGE: std::ops::RangeInclusive<u8> = 16..=28;

/// An IPv4 CIDR block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub base: u32,
    pub prefix: u8,
}

impl Cidr {
    /// Parses `a.b.c.d/p`. The address must be the block's first address (as AWS requires).
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let (addr, prefix) =
            text.trim().split_once('/').ok_or_else(|| format!("`{text}` is not a CIDR block; write e.g. \"10.0.1.0/24\""))?;
        let prefix: u8 = prefix.parse().map_err(|_| format!("`{text}`: prefix `{prefix}` is not a number from 0 to 32"))?;
        if prefix > 32 {
            return Err(format!("`{text}`: prefix must be 0 to 32"));
        }
        let octets: Vec<&str> = addr.split('.').collect();
        if octets.len() != 4 {
            return Err(format!("`{text}`: the address needs four numbers from 0 to 255"));
        }
        let mut base = 0u32;
        for o in octets {
            let v: u8 = o.parse().map_err(|_| format!("`{text}`: `{o}` is not a number from 0 to 255"))?;
            base = (base << 8) | u32::from(v);
        }
        let cidr = Cidr { base, prefix };
        if base & !cidr.mask() != 0 {
            let fixed = Cidr { base: base & cidr.mask(), prefix };
            return Err(format!("`{text}` has host bits set; the block starts at {fixed}"));
        }
        Ok(cidr)
    }

    fn mask(self) -> u32 {
        if self.prefix == 0 { 0 } else { u32::MAX << (32 - self.prefix) }
    }

    /// Addresses in the block.
    pub fn size(self) -> u64 {
        1u64 << (32 - self.prefix)
    }

    /// Addresses an owner can hold: size − 5.
    pub fn usable(self) -> u32 {
        (self.size() as u32).saturating_sub(AWS_RESERVED_PER_SUBNET)
    }

    pub fn overlaps(self, other: Cidr) -> bool {
        let m = self.mask() & other.mask();
        self.base & m == other.base & m
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.base;
        write!(f, "{}.{}.{}.{}/{}", b >> 24, (b >> 16) & 255, (b >> 8) & 255, b & 255, self.prefix)
    }
}

/// One subnet and how many of its usable addresses are held.
#[derive(Debug, Clone)]
pub struct Subnet {
    pub name: String,
    pub az: AzId,
    pub cidr: Cidr,
    pub public: bool,
    /// A NAT gateway lives here (it holds one address).
    pub nat_gateway: bool,
    pub usable: u32,
    pub held: u32,
    /// Of `held`: addresses of stopped tasks whose ENI is still being cleaned up.
    pub releasing: u32,
}

impl Subnet {
    pub fn new(name: String, az: AzId, cidr: Cidr, public: bool, nat_gateway: bool) -> Subnet {
        let usable = cidr.usable();
        Subnet { name, az, cidr, public, nat_gateway, usable, held: 0, releasing: 0 }
    }

    pub fn free(&self) -> u32 {
        self.usable - self.held
    }

    /// Takes one address; false if none is free.
    pub fn try_take(&mut self) -> bool {
        if self.held == self.usable {
            return false;
        }
        self.held += 1;
        true
    }

    /// A stopped task's ENI enters clean-up: its address stays held until `finish_release`.
    pub fn begin_release(&mut self) {
        debug_assert!(self.releasing < self.held);
        self.releasing += 1;
    }

    /// Gives an address back at once (a terminated instance's primary or trunk ENI).
    pub fn give_back(&mut self) {
        assert!(self.held > self.releasing, "gave back an address of subnet {} that no one held", self.name);
        self.held -= 1;
    }

    pub fn finish_release(&mut self) {
        assert!(self.releasing > 0 && self.held > 0, "released an address of subnet {} that was not being released", self.name);
        self.releasing -= 1;
        self.held -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usable_addresses_are_the_block_minus_five() {
        for (cidr, usable) in [("10.0.0.0/16", 65_531), ("10.0.1.0/24", 251), ("10.0.1.0/26", 59), ("10.0.1.0/28", 11), ("10.0.1.0/20", 0)]
        {
            if cidr.ends_with("/20") {
                // /20 needs a base aligned to 4,096 addresses.
                assert!(Cidr::parse(cidr).unwrap_err().contains("host bits"));
                assert_eq!(Cidr::parse("10.0.0.0/20").unwrap().usable(), 4_091);
                continue;
            }
            assert_eq!(Cidr::parse(cidr).unwrap().usable(), usable, "{cidr}");
        }
    }

    #[test]
    fn cidr_errors_say_what_is_wrong() {
        assert!(Cidr::parse("10.0.1.0").unwrap_err().contains("not a CIDR"));
        assert!(Cidr::parse("10.0.1.300/24").unwrap_err().contains("`300`"));
        assert!(Cidr::parse("10.0.1.0/33").unwrap_err().contains("0 to 32"));
        assert!(Cidr::parse("10.0.1.5/24").unwrap_err().contains("starts at 10.0.1.0/24"));
    }

    #[test]
    fn overlap_is_containment_or_equality() {
        let a = Cidr::parse("10.0.0.0/16").unwrap();
        let b = Cidr::parse("10.0.5.0/24").unwrap();
        let c = Cidr::parse("10.1.0.0/24").unwrap();
        assert!(a.overlaps(b) && b.overlaps(a));
        assert!(!a.overlaps(c) && !b.overlaps(c));
    }

    #[test]
    fn a_released_address_stays_held_until_clean_up_ends() {
        let mut s = Subnet::new("s".into(), AzId(0), Cidr::parse("10.0.0.0/28").unwrap(), false, false);
        for _ in 0..11 {
            assert!(s.try_take());
        }
        assert!(!s.try_take(), "a /28 has 11 usable addresses");
        s.begin_release();
        assert!(!s.try_take(), "still held during clean-up");
        s.finish_release();
        assert!(s.try_take());
        assert_eq!(s.free(), 0);
    }
}
