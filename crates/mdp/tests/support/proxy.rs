//! A TCP proxy on a free loopback port in front of a server (PostgreSQL), that a test can
//! cut — every open connection is shut and new ones are refused — and restore, to stage a
//! real network outage between a store and its database.

use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// A proxy from `127.0.0.1:{port}` to a target address.
pub(crate) struct TcpProxy {
    port: u16,
    target: SocketAddr,
    open: Arc<Mutex<Vec<TcpStream>>>,
    running: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl TcpProxy {
    /// A proxy to `target` on a free port, accepting connections.
    pub(crate) fn start(target: SocketAddr) -> Self {
        let mut proxy = Self {
            port: super::free_port(),
            target,
            open: Arc::default(),
            running: Arc::new(AtomicBool::new(false)),
            acceptor: None,
        };
        proxy.restore();
        proxy
    }

    /// The port clients connect to.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// Shuts every open connection and refuses new ones until [`TcpProxy::restore`].
    pub(crate) fn cut(&mut self) {
        self.running.store(false, Ordering::SeqCst);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        for stream in self
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
        {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    /// Accepts connections again.
    pub(crate) fn restore(&mut self) {
        if self.acceptor.is_some() {
            return;
        }
        let listener = bind(self.port);
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        self.running.store(true, Ordering::SeqCst);
        let running = Arc::clone(&self.running);
        let open = Arc::clone(&self.open);
        let target = self.target;
        self.acceptor = Some(std::thread::spawn(move || {
            while running.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => forward(client, target, &open),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    Err(_) => return,
                }
            }
        }));
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.cut();
    }
}

/// Binds `port` again (it may linger briefly after a cut).
fn bind(port: u16) -> TcpListener {
    for _ in 0..200 {
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)) {
            return listener;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("cannot bind the proxy port {port} again");
}

fn forward(client: TcpStream, target: SocketAddr, open: &Mutex<Vec<TcpStream>>) {
    let _ = client.set_nonblocking(false);
    let Ok(server) = TcpStream::connect(target) else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    {
        let mut open = open.lock().unwrap_or_else(PoisonError::into_inner);
        for stream in [&client, &server] {
            if let Ok(s) = stream.try_clone() {
                open.push(s);
            }
        }
    }
    pipe(client, server);
    pipe(s2, c2);
}

/// Copies `from` to `to` on a thread of its own until either side closes.
fn pipe(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from, &mut to);
        let _ = to.shutdown(Shutdown::Both);
        let _ = from.shutdown(Shutdown::Both);
    });
}
