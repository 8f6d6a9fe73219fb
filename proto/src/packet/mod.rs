//! Packet headers: Ethernet, VLAN, ARP, IPv4, IPv6, TCP/UDP and LLDP.
