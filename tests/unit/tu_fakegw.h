/*
 * tu_fakegw.h — test helper: the fixture of the gateway tests that run the
 * fake plugin (tu_fakeplugin) against the local TLS server (tu_tlsserver):
 * a temporary folder with the server's certificate and a config path, the
 * server, and the gateway a test opens (closed by the teardown).
 */
#ifndef XGW_TU_FAKEGW_H
#define XGW_TU_FAKEGW_H

#include "tu_tlsserver.h"
#include "xgw/xgw.h"

struct tu_fakegw {
    char dir[64];
    char cert[128]; /* the server's certificate: the ca_file to trust it */
    char ini[128];  /* where the test writes its config (tu_fake_write_ini) */
    struct tu_tls *srv;
    struct xgw_gateway *gw; /* opened by the test; NULL or closed by the teardown */
};

/* cmocka setup/teardown: *state becomes a struct tu_fakegw. */
int tu_fakegw_setup(void **state);
int tu_fakegw_teardown(void **state);

#endif
