#include "xgw/xgw.h"

const char *xgw_version(void) { return XGW_VERSION; }
