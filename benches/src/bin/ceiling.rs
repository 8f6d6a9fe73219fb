//! ceiling: a do-nothing OpenFlow 1.3 controller. It accepts switches,
//! sends HELLO and FEATURES_REQUEST, answers ECHO, and answers every
//! PACKET_IN with one PACKET_OUT of the same frame out of its in_port, in a
//! tight loop: everything one read brings is answered in one write. Against
//! it, ofswitchbench measures what the machine (generator, kernel, loopback
//! TCP) allows with no controller work at all.
//!
//! With `--flow-mod` every PACKET_OUT follows a FLOW_MOD for the frame's
//! addresses, patched into a template: a learning switch's answer at no
//! cost, the floor for any controller that installs flows.

use anyhow::Result;
use clap::Parser;
use edgeflow_benches::ofbench::template::{
    append, packet_in_data, FlowModTemplate, PacketOutTemplate,
};
use edgeflow_proto::ofp::{self, msg_type, Hello, Message, OfpMsg};
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Parser, Debug)]
#[command(about = "Do-nothing OpenFlow 1.3 controller: one PACKET_OUT per PACKET_IN")]
struct Args {
    /// Where switches connect.
    #[arg(long, default_value = "127.0.0.1:16653")]
    listen: SocketAddr,
    /// Answer each PACKET_IN with a FLOW_MOD before the PACKET_OUT.
    #[arg(long)]
    flow_mod: bool,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let listener = TcpListener::bind(args.listen).await?;
        let flow = args.flow_mod.then(FlowModTemplate::new);
        loop {
            let (stream, _) = listener.accept().await?;
            let flow = flow.clone();
            tokio::spawn(async move {
                // A switch that goes away ends its task; nothing else to do.
                let _ = serve(stream, flow).await;
            });
        }
    })
}

async fn serve(mut stream: TcpStream, flow: Option<FlowModTemplate>) -> Result<()> {
    stream.set_nodelay(true)?;
    let answer = PacketOutTemplate::new();
    let mut out = Vec::with_capacity(64 * 1024);
    append(&mut out, &OfpMsg::new(1, Message::Hello(Hello::standard())));
    append(&mut out, &OfpMsg::new(2, Message::FeaturesRequest));
    let mut inbuf: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        if !out.is_empty() {
            stream.write_all(&out).await?;
            out.clear();
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        inbuf.extend_from_slice(&chunk[..n]);
        let mut at = 0;
        while let Some(len) = ofp::frame_len(&inbuf[at..])? {
            let msg = &inbuf[at..at + len];
            let xid = u32::from_be_bytes([msg[4], msg[5], msg[6], msg[7]]);
            match msg[1] {
                msg_type::PACKET_IN => {
                    if let Some((in_port, frame)) = packet_in_data(msg) {
                        if let Some(flow) = &flow {
                            // The emulator counts FLOW_MODs in this mode and
                            // applies none; the output port is a placeholder.
                            flow.append(&mut out, xid, in_port, in_port, frame);
                        }
                        answer.append(&mut out, xid, in_port, frame);
                    }
                }
                msg_type::ECHO_REQUEST => {
                    let reply = Message::EchoReply(msg[ofp::HEADER_LEN..].to_vec());
                    append(&mut out, &OfpMsg::new(xid, reply));
                }
                _ => {}
            }
            at += len;
        }
        inbuf.drain(..at);
    }
}
