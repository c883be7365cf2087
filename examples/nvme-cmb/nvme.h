/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * nvme.h - the few NVMe definitions the nvme-cmb example needs
 * (NVM Express Base Specification 1.4: registers, SQE/CQE layouts,
 * admin and NVM command opcodes).
 */
#ifndef NVME_CMB_NVME_H
#define NVME_CMB_NVME_H

#include <stdint.h>

/* Controller registers (BAR0) */
#define NVME_REG_CAP		0x00	/* 64-bit */
#define NVME_REG_VS		0x08
#define NVME_REG_INTMS		0x0c
#define NVME_REG_INTMC		0x10
#define NVME_REG_CC		0x14
#define NVME_REG_CSTS		0x1c
#define NVME_REG_AQA		0x24
#define NVME_REG_ASQ		0x28	/* 64-bit */
#define NVME_REG_ACQ		0x30	/* 64-bit */
#define NVME_REG_CMBLOC		0x38
#define NVME_REG_CMBSZ		0x3c
#define NVME_REG_CMBMSC		0x50	/* 64-bit */
#define NVME_REG_CMBSTS		0x58
#define NVME_REG_DBS		0x1000

/* CAP */
#define NVME_CAP_MQES(cap)	((uint32_t)((cap) & 0xffff))
#define NVME_CAP_CQR(cap)	((uint32_t)(((cap) >> 16) & 1))
#define NVME_CAP_TO(cap)	((uint32_t)(((cap) >> 24) & 0xff))	/* 500 ms units */
#define NVME_CAP_DSTRD(cap)	((uint32_t)(((cap) >> 32) & 0xf))
#define NVME_CAP_CSS_NVM(cap)	((uint32_t)(((cap) >> 37) & 1))
#define NVME_CAP_MPSMIN(cap)	((uint32_t)(((cap) >> 48) & 0xf))
#define NVME_CAP_CMBS(cap)	((uint32_t)(((cap) >> 57) & 1))

/* CC */
#define NVME_CC_EN		(1u << 0)
#define NVME_CC_CSS_NVM		(0u << 4)
#define NVME_CC_MPS(x)		((uint32_t)(x) << 7)
#define NVME_CC_SHN_NORMAL	(1u << 14)
#define NVME_CC_IOSQES(x)	((uint32_t)(x) << 16)
#define NVME_CC_IOCQES(x)	((uint32_t)(x) << 20)

/* CSTS */
#define NVME_CSTS_RDY		(1u << 0)
#define NVME_CSTS_CFS		(1u << 1)
#define NVME_CSTS_SHST(x)	(((x) >> 2) & 3)
#define NVME_CSTS_SHST_DONE	2

/* CMBLOC / CMBSZ / CMBMSC / CMBSTS */
#define NVME_CMBLOC_BIR(x)	((x) & 7)
#define NVME_CMBLOC_OFST(x)	((x) >> 12)
#define NVME_CMBSZ_SQS		(1u << 0)
#define NVME_CMBSZ_CQS		(1u << 1)
#define NVME_CMBSZ_LISTS	(1u << 2)
#define NVME_CMBSZ_RDS		(1u << 3)
#define NVME_CMBSZ_WDS		(1u << 4)
#define NVME_CMBSZ_SZU(x)	(((x) >> 8) & 0xf)
#define NVME_CMBSZ_SZ(x)	((x) >> 12)
#define NVME_CMBMSC_CRE		(1ull << 0)
#define NVME_CMBMSC_CMSE	(1ull << 1)
#define NVME_CMBMSC_CBA_MASK	(~0xfffull)
#define NVME_CMBSTS_CBAI	(1u << 0)

/* Admin opcodes */
#define NVME_ADM_DELETE_SQ	0x00
#define NVME_ADM_CREATE_SQ	0x01
#define NVME_ADM_DELETE_CQ	0x04
#define NVME_ADM_CREATE_CQ	0x05
#define NVME_ADM_IDENTIFY	0x06

/* NVM opcodes */
#define NVME_CMD_FLUSH		0x00
#define NVME_CMD_WRITE		0x01
#define NVME_CMD_READ		0x02

/* Identify CNS values */
#define NVME_ID_CNS_NS		0x00
#define NVME_ID_CNS_CTRL	0x01

/* Create I/O queue flags (CDW11) */
#define NVME_QUEUE_PHYS_CONTIG	(1u << 0)
#define NVME_CQ_IRQ_ENABLED	(1u << 1)

struct nvme_sqe {
	uint8_t  opc;
	uint8_t  flags;
	uint16_t cid;
	uint32_t nsid;
	uint32_t cdw2;
	uint32_t cdw3;
	uint64_t mptr;
	uint64_t prp1;
	uint64_t prp2;
	uint32_t cdw10;
	uint32_t cdw11;
	uint32_t cdw12;
	uint32_t cdw13;
	uint32_t cdw14;
	uint32_t cdw15;
};

struct nvme_cqe {
	uint32_t dw0;
	uint32_t dw1;
	uint16_t sqhd;
	uint16_t sqid;
	uint16_t cid;
	uint16_t status;	/* bit 0: phase tag; bits 15:1: status field */
};

_Static_assert(sizeof(struct nvme_sqe) == 64, "SQE is 64 bytes");
_Static_assert(sizeof(struct nvme_cqe) == 16, "CQE is 16 bytes");

#define NVME_SQE_SIZE_LOG2	6
#define NVME_CQE_SIZE_LOG2	4

/* Status field (CQE status >> 1): SCT in bits 10:8, SC in bits 7:0 */
#define NVME_STATUS_SCT(s)	(((s) >> 8) & 7)
#define NVME_STATUS_SC(s)	((s) & 0xff)

#endif /* NVME_CMB_NVME_H */
