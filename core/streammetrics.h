/*
 * core/streammetrics.h — the WebSocket stream families of xgw_metrics()
 * (internal). The counters live in core/stream.h; this renders them.
 */
#ifndef XGW_CORE_STREAMMETRICS_H
#define XGW_CORE_STREAMMETRICS_H

#include "xgw/xgw.h"

/* An xgw__metrics_extra_fn (core/metrics.h); ud is the struct
 * xgw_gateway. Prometheus: the xgw_ws_* and xgw_stream_* families; JSON:
 * a "streams" member, one object per instance that ever had a stream.
 * Instances without streams are left out. 0 or XGW_ERR_INTERNAL. Any
 * thread. */
int xgw__streams_render(void *ud, enum xgw_metrics_format fmt, struct xgw_buf *b);

#endif
