//! The HTTP listeners, and how they stop without dropping a request.
//!
//! `actix_web::HttpServer` drains a connection on shutdown by closing it as soon as no request
//! is being served on it. Under load that closes connections whose next request is already in
//! the socket (or in actix's read buffer, not yet decoded): the client wrote a request on a
//! connection the server had accepted, and gets a reset instead of an answer. So the servers
//! here are built from the same parts (`actix_server` + `actix_http::HttpService`, with
//! `HttpServer`'s defaults) but without that signal, and drain their own way:
//!
//! 1. [`Draining::begin`]: from now on every response says `Connection: close`, and actix
//!    closes the connection once it is written;
//! 2. the server is stopped gracefully: its listeners are closed at once (a new connection is
//!    refused) while the workers keep serving the connections they have. Each of those gets
//!    its next request answered with `Connection: close`; an idle one is closed by its
//!    keep-alive timer (5 s), the same close every keep-alive client already handles;
//! 3. the process exits when the last connection has closed, or after `SHUTDOWN_TIMEOUT_SECS`.

use actix_http::{HttpService, KeepAlive};
use actix_web::body::MessageBody;
use actix_web::dev::{AppConfig, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::ConnectionType;
use actix_web::middleware::Next;
use actix_web::App;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// `HttpServer`'s defaults, kept: how long an idle keep-alive connection stays open, how long
/// a client gets to send a request's head, and to acknowledge the close.
const KEEP_ALIVE: Duration = Duration::from_secs(5);
const CLIENT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
const CLIENT_DISCONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Pending connections the kernel queues per listener (`HttpServer`'s default).
const BACKLOG: i32 = 1024;

/// Whether the process is shutting down; shared by every worker of every listener.
#[derive(Clone, Debug, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    /// Every response from now on closes its connection.
    pub fn begin(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    fn is_on(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Binds `host:port` (every address the name resolves to), as `HttpServer::bind` does:
/// `SO_REUSEADDR`, a backlog of [`BACKLOG`].
pub fn bind(host: &str, port: u16) -> std::io::Result<Vec<TcpListener>> {
    use socket2::{Domain, Protocol, Socket, Type};
    let mut listeners = Vec::new();
    for addr in (host, port).to_socket_addrs()? {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        socket.set_reuse_address(true)?;
        socket.bind(&addr.into())?;
        socket.listen(BACKLOG)?;
        listeners.push(socket.into());
    }
    if listeners.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AddrNotAvailable,
            format!("{host} resolves to no address"),
        ));
    }
    Ok(listeners)
}

/// A server of `app` on `listeners` (HTTP/1.x), stopped as the module says.
pub fn serve<F, T, B>(
    name: &str,
    listeners: Vec<TcpListener>,
    workers: Option<usize>,
    shutdown_timeout_secs: u64,
    draining: &Draining,
    app: F,
) -> std::io::Result<actix_web::dev::Server>
where
    F: Fn() -> App<T> + Send + Clone + 'static,
    T: ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse<B>,
            Error = actix_web::Error,
            InitError = (),
        > + 'static,
    B: MessageBody + 'static,
{
    let mut builder = actix_web::dev::Server::build()
        .disable_signals()
        .shutdown_timeout(shutdown_timeout_secs);
    if let Some(workers) = workers {
        builder = builder.workers(workers);
    }
    for listener in listeners {
        let addr: SocketAddr = listener.local_addr()?;
        let (app, draining) = (app.clone(), draining.clone());
        builder = builder.listen(format!("{name}-{addr}"), listener, move || {
            let draining = draining.clone();
            let app = app().wrap(actix_web::middleware::from_fn(
                move |request: ServiceRequest, next: Next<B>| {
                    let draining = draining.clone();
                    async move {
                        let mut response = next.call(request).await?;
                        if draining.is_on() {
                            response
                                .response_mut()
                                .head_mut()
                                .set_connection_type(ConnectionType::Close);
                        }
                        Ok::<_, actix_web::Error>(response)
                    }
                },
            ));
            HttpService::build()
                .keep_alive(KeepAlive::Timeout(KEEP_ALIVE))
                .client_request_timeout(CLIENT_REQUEST_TIMEOUT)
                .client_disconnect_timeout(CLIENT_DISCONNECT_TIMEOUT)
                .local_addr(addr)
                // `AppConfig::default()`: the host a request without a `Host` header is
                // taken to be addressed to (`localhost:8080`); nothing here builds URLs
                // from it.
                .finish(actix_service::map_config(app, |()| AppConfig::default()))
                .tcp()
        })?;
    }
    Ok(builder.run())
}
