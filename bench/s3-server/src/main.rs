//! `bench-s3-server PORT ROOT ACCESS_KEY SECRET_KEY`: s3s-fs on 127.0.0.1:PORT,
//! storing buckets as folders under ROOT, path-style requests only.

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [port, root, access_key, secret_key] = args.as_slice() else {
        return Err("usage: bench-s3-server PORT ROOT ACCESS_KEY SECRET_KEY".into());
    };
    let fs = s3s_fs::FileSystem::new(root).map_err(|e| format!("{root}: {e:?}"))?;
    let mut service = S3ServiceBuilder::new(fs);
    service.set_auth(SimpleAuth::from_single(
        access_key.as_str(),
        secret_key.as_str(),
    ));
    let service = service.build();
    let listener = TcpListener::bind(("127.0.0.1", port.parse::<u16>()?)).await?;
    let http = Builder::new(TokioExecutor::new());
    loop {
        let (socket, _) = listener.accept().await?;
        socket.set_nodelay(true)?;
        let conn = http
            .serve_connection(TokioIo::new(socket), service.clone())
            .into_owned();
        tokio::spawn(conn);
    }
}
