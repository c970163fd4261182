-- Rollback of 0023_recommendations: drops feedback, then recommendations.

DROP TABLE feedback;

DROP TABLE recommendations;
